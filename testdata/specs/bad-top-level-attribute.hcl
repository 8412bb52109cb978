packaging = "kmod"
