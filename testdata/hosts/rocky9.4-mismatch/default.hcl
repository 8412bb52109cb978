# rocky9.4-mismatch: the defaults (packaging auto, running kernel, import cache, zed, mount).
