# rocky9.4-secureboot: the defaults (packaging auto, running kernel, import cache, zed, mount).
