# rocky9.4-rt: the defaults (packaging auto, running kernel, import cache, zed, mount).
