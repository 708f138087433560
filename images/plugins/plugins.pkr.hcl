# Packer 1.7 and newer load builders as plugins: airy-box build copies this file beside the templates and runs
# `packer init` there. Packer 1.6 (Debian's) has the builders built in and rejects this block, so it is left out.
packer {
  required_plugins {
    qemu = {
      version = ">= 1.1.0"
      source  = "github.com/hashicorp/qemu"
    }
    virtualbox = {
      version = ">= 1.1.0"
      source  = "github.com/hashicorp/virtualbox"
    }
    vagrant = {
      version = ">= 1.1.0"
      source  = "github.com/hashicorp/vagrant"
    }
  }
}
