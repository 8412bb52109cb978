services {
  import = "auto"
}
