# ol8-uek: the defaults (packaging auto, running kernel, import cache, zed, mount).
