# rocky9.4-stock: the defaults (packaging auto, running kernel, import cache, zed, mount).
