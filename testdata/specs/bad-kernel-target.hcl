kernel {
  target = "latest"
}
