# alma8.10-stock: the defaults (packaging auto, running kernel, import cache, zed, mount).
