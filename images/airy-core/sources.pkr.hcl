# The two builders: qemu makes the libvirt box (Linux/KVM), virtualbox-ovf the VirtualBox box (the seed's).

locals {
  # cloud-init seed for cloud images: a vagrant user with Vagrant's insecure key. Ignored by bases without it.
  cidata_files = ["${var.payload_dir}/cidata/meta-data", "${var.payload_dir}/cidata/user-data"]
  shutdown     = "sudo systemctl poweroff"
}

source "qemu" "airy-core" {
  iso_url          = var.base_image
  iso_checksum     = var.base_image_checksum
  disk_image       = true
  disk_size        = var.disk_size
  format           = "qcow2"
  accelerator      = var.accelerator
  cpus             = var.cpus
  memory           = var.memory
  headless         = true
  vnc_bind_address = "127.0.0.1"
  ssh_host         = "127.0.0.1"
  host_port_min    = var.host_port_min
  host_port_max    = var.host_port_max
  # Packer's own forward listens on every interface; this one only on loopback.
  qemuargs = [["-netdev", "user,id=user.0,restrict=${var.restrict_network ? "on" : "off"},hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22"]]
  cd_files             = local.cidata_files
  cd_label             = "cidata"
  ssh_username         = "vagrant"
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = "30m"
  shutdown_command     = local.shutdown
  output_directory     = "${var.output_directory}/qemu"
  vm_name              = "airy-core.qcow2"
}

source "virtualbox-ovf" "airy-core" {
  source_path          = var.base_image_ova
  checksum             = var.base_image_ova_checksum
  # The same NoCloud seed as qemu's, on a CD labelled cidata: the Ubuntu cloud OVA's cloud-init finds it and makes
  # the vagrant user with the build's key, without which SSH never comes up.
  cd_files             = local.cidata_files
  cd_label             = "cidata"
  headless             = true
  vrdp_bind_address    = "127.0.0.1"
  ssh_username         = "vagrant"
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = "30m"
  shutdown_command     = local.shutdown
  output_directory     = "${var.output_directory}/virtualbox"
  guest_additions_mode = "disable"
  vboxmanage = [
    ["modifyvm", "{{ .Name }}", "--cpus", "${var.cpus}"],
    ["modifyvm", "{{ .Name }}", "--memory", "${var.memory}"],
  ]
}
