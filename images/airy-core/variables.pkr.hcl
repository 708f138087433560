# Variables of the Airy Core box. airy-box build sets them; defaults build the real box from a cloud image.

variable "box_version" {
  type        = string
  description = "Semantic version of the box."
}

# The VM's size has one home, @airy/manifests' box facts: airy-box build always sets these three.
variable "cpus" {
  type        = number
  description = "CPUs of the build VM and the box's default."
}

variable "memory" {
  type        = number
  description = "MiB of memory of the build VM and the box's default."
}

variable "disk_size" {
  type        = string
  description = "Virtual disk size (qemu); the box's virtual_size comes from it."
}

variable "disk_mib" {
  type        = number
  description = "The same size in MiB: the VirtualBox build grows the OVA's imported disk to it before booting."
}

variable "ova_disk_unit" {
  type        = number
  default     = -1
  description = "The OVA's disk in `VBoxManage import --dry-run`'s listing; airy-box build reads it for a VirtualBox build."
}

variable "kubernetes_version" {
  type = string
}

variable "minikube_version" {
  type = string
}

variable "istio_version" {
  type = string
}

variable "crictl_version" {
  type = string
}

variable "architecture" {
  type        = string
  description = "The box's architecture (as the catalog names it): the qemu that builds it and every download follow it."
}

variable "efi_firmware" {
  type        = string
  default     = ""
  description = "UEFI firmware for an arm64 guest (qemu's virt machine has no BIOS)."
}

variable "base_image" {
  type        = string
  default     = ""
  description = "qcow2 base image for the qemu (libvirt) box: a URL or file:// path (airy-box build passes the Ubuntu cloud image of the architecture)."
}

variable "base_image_checksum" {
  type        = string
  default     = ""
  description = "Checksum of base_image: sha256:HEX, or file:URL of a SHA256SUMS list."
}

variable "base_image_ova" {
  type        = string
  default     = ""
  description = "OVA base image for the virtualbox box."
}

variable "base_image_ova_checksum" {
  type    = string
  default = ""
}

variable "accelerator" {
  type        = string
  default     = "kvm"
  description = "qemu accelerator: kvm, or tcg where KVM is unusable."
}

variable "output_directory" {
  type = string
}

variable "payload_dir" {
  type        = string
  description = "Folder with deployments/, images.txt and box.json, made by airy-box build."
}

variable "skip_downloads" {
  type        = bool
  default     = false
  description = "Skip the provisioning steps that download (Minikube, kubectl, Istio, images): offline builds."
}

variable "registry_mirror" {
  type        = string
  default     = ""
  description = "A Docker Hub mirror for the build's image pulls (airy-box build --registry-mirror, checked there); the box does not keep it."
}

variable "restrict_network" {
  type        = bool
  default     = false
  description = "Cut the build VM off every network (qemu user networking restrict=on); needs skip_downloads."
}

variable "ssh_private_key_file" {
  type        = string
  description = "Key the build logs in with (Vagrant's insecure key)."
}

variable "host_port_min" {
  type    = number
  default = 2222
}

variable "host_port_max" {
  type    = number
  default = 4444
}

variable "scripts_dir" {
  type        = string
  description = "images/scripts, as an absolute path."
}

variable "registry_credentials" {
  type        = string
  default     = ""
  sensitive   = true
  description = "USER:TOKEN for Docker Hub, for the build's image pulls only (airy-box build --registry-credentials FILE passes it in Packer's environment, never in a file); the box does not keep it."
}
