# rhel9.4-converged: the defaults (packaging auto, running kernel, import cache, zed, mount).
