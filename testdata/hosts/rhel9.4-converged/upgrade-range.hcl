# A range the installed 2.2.7 does not meet but newer releases do: an update, not a downgrade.
zfs {
  version = ">= 2.2.8, < 2.3"
}
