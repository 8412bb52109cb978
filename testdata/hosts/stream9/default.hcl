# stream9: the defaults (packaging auto, running kernel, import cache, zed, mount).
