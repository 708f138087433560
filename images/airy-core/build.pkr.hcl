# Provisioning, one concern per script (images/scripts), then the Vagrant box.

packer {
  required_version = ">= 1.6.6"
}

locals {
  as_root = "sudo -E env {{ .Vars }} bash '{{ .Path }}'"
  build_env = [
    "AIRY_PAYLOAD=/tmp/airy-payload",
    "AIRY_SKIP_DOWNLOADS=${var.skip_downloads}",
    "KUBERNETES_VERSION=${var.kubernetes_version}",
    "MINIKUBE_VERSION=${var.minikube_version}",
    "ISTIO_VERSION=${var.istio_version}",
    "CRICTL_VERSION=${var.crictl_version}",
    "AIRY_ARCH=${var.architecture}",
    "AIRY_REGISTRY_MIRROR=${var.registry_mirror}",
  ]
}

build {
  sources = ["source.qemu.airy-core", "source.virtualbox-ovf.airy-core"]

  provisioner "file" {
    source      = var.payload_dir
    destination = "/tmp/airy-payload"
  }

  provisioner "shell" {
    execute_command  = local.as_root
    environment_vars = local.build_env
    scripts = [
      "${var.scripts_dir}/updates.sh",
      "${var.scripts_dir}/base.sh",
      "${var.scripts_dir}/container-runtime.sh",
      "${var.scripts_dir}/kubernetes.sh",
      "${var.scripts_dir}/istio.sh",
      "${var.scripts_dir}/manifests.sh",
    ]
  }

  # The image pulls alone get the builder's Docker Hub credential (a sensitive variable, which Packer prints as
  # <sensitive>). Packer writes the environment into a file in /dev/shm (tmpfs: never on the box's disk), sources
  # it and removes it; the command line that sudo logs names only the file.
  provisioner "shell" {
    remote_folder    = "/dev/shm"
    use_env_var_file = true
    execute_command  = "sudo -E bash -c '. {{ .EnvVarFile }} && exec bash {{ .Path }}'"
    environment_vars = concat(local.build_env, ["AIRY_REGISTRY_CREDENTIALS=${var.registry_credentials}"])
    scripts          = ["${var.scripts_dir}/images.sh"]
  }

  provisioner "shell" {
    execute_command  = local.as_root
    environment_vars = local.build_env
    scripts = [
      "${var.scripts_dir}/cleanup.sh",
      "${var.scripts_dir}/minimize.sh",
    ]
  }

  # A plain tar: airy-box compresses it with a resynchronising gzip (src/box-file.ts), so that two builds share
  # their compressed bytes and an upgrade downloads only what changed.
  post-processor "vagrant" {
    output            = "${var.output_directory}/airy-core-${var.box_version}-{{ .Provider }}.box"
    compression_level = 0
  }
}
