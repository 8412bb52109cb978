# The next boot's kernel (grubby --default-kernel), not the running one.
kernel {
  target = "default"
}
