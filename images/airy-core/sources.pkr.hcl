# The two builders: qemu makes the libvirt box (Linux/KVM), virtualbox-ovf the VirtualBox box (the seed's).

locals {
  # cloud-init seed for cloud images: a vagrant user with Vagrant's insecure key. Ignored by bases without it.
  cidata_files = ["${var.payload_dir}/cidata/meta-data", "${var.payload_dir}/cidata/user-data"]
  shutdown     = "sudo systemctl poweroff"
  # The VirtualBox build's disk, imported from the OVA as a VDI beside (not in) the source's output folder, whose
  # files the box is made of; Packer's clean-up deletes the VM with it.
  vbox_disk = "${var.output_directory}/airy-core-build.vdi"
  arm64        = var.architecture == "arm64"
  # Packer's own forward listens on every interface; this one only on loopback.
  netdev = ["-netdev", "user,id=user.0,restrict=${var.restrict_network ? "on" : "off"},hostfwd=tcp:127.0.0.1:{{ .SSHHostPort }}-:22"]
  # arm64: qemu's virt machine boots UEFI firmware, has no IDE for a CD, and gets the seed over Packer's HTTP
  # server instead (cloud-init's NoCloud datasource reads the URL from the SMBIOS serial).
  arm64_args = [
    ["-bios", var.efi_firmware],
    ["-cpu", "max"],
    ["-smbios", "type=1,serial=ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/"],
  ]
}

source "qemu" "airy-core" {
  iso_url          = var.base_image
  iso_checksum     = var.base_image_checksum
  disk_image       = true
  qemu_binary      = local.arm64 ? "qemu-system-aarch64" : "qemu-system-x86_64"
  machine_type     = local.arm64 ? "virt" : "pc"
  disk_size        = var.disk_size
  # The guest's discards (fstrim in minimize.sh) and its writes of zeros become holes in the qcow2 rather than
  # data: the disk grows to what the build keeps, never to its virtual size (qemu's default ignores discards).
  disk_discard       = "unmap"
  disk_detect_zeroes = "unmap"
  format           = "qcow2"
  accelerator      = var.accelerator
  cpus             = var.cpus
  memory           = var.memory
  headless         = true
  vnc_bind_address = "127.0.0.1"
  ssh_host         = "127.0.0.1"
  host_port_min    = var.host_port_min
  host_port_max    = var.host_port_max
  qemuargs             = local.arm64 ? concat([local.netdev], local.arm64_args) : [local.netdev]
  cd_files             = local.arm64 ? [] : local.cidata_files
  cd_label             = "cidata"
  http_directory       = local.arm64 ? "${var.payload_dir}/cidata" : ""
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
  # The OVA's disk is a ~10 GiB VMDK, too small for the OS and the images, and VBoxManage cannot grow a VMDK. So
  # it is imported as a VDI (importtovdi turns the target's suffix into .vdi) at a path of the build's own (the
  # unit is its entry in the import listing, which airy-box build reads), and grown to the box's disk size before
  # the VM boots: Packer runs `vboxmanage` after the import and before the start. cloud-init's growpart, at the
  # build's first boot, grows the root partition into it.
  import_flags = ["--options", "importtovdi", "--vsys", "0", "--unit", "${var.ova_disk_unit}", "--disk", local.vbox_disk]
  vboxmanage = [
    ["modifymedium", "disk", local.vbox_disk, "--resize", "${var.disk_mib}"],
    ["modifyvm", "{{ .Name }}", "--cpus", "${var.cpus}"],
    ["modifyvm", "{{ .Name }}", "--memory", "${var.memory}"],
    # Ubuntu's cloud images log to ttyS0 (console=ttyS0): without a UART VirtualBox boots them very slowly or hangs
    # (hashicorp/vagrant#10578, #10970; LP#1573095). COM1 into a file beside the build's output, for its log.
    ["modifyvm", "{{ .Name }}", "--uart1", "0x3F8", "4"],
    ["modifyvm", "{{ .Name }}", "--uartmode1", "file", "${var.output_directory}/virtualbox-console.log"],
  ]
  # The box keeps the UART but not the build machine's path; bootstrap's Vagrantfile points it at the null device.
  vboxmanage_post = [
    ["modifyvm", "{{ .Name }}", "--uartmode1", "disconnected"],
  ]
}
