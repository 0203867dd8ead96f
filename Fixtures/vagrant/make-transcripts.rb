# Writes the hand-made transcripts of this folder (see README.md) through Vagrant's own
# machine-readable UI classes, so each line is escaped and prefixed exactly as vagrant
# prints it. The sequence of messages follows the VirtualBox provider's actions in
# Vagrant's source; the texts come from Vagrant's own locale file. No machine runs.
#
#   ruby Fixtures/vagrant/make-transcripts.rb Fixtures/vagrant
#
# Needs Debian's vagrant package (its Ruby sources are loaded, not run).
require "vagrant"
require "vagrant/ui"
require "vagrant/util/template_renderer"

I18n.load_path << File.expand_path("templates/locales/en.yml", Vagrant.source_root)
out_dir = ARGV.fetch(0)

# A fixed clock (2026-11-29 04:00:00 UTC) that advances as the "run" does.
$clock = 1_795_924_800
class << Time
  alias_method :real_now, :now
  def now = Time.at($clock)
end
def wait(seconds) = $clock += seconds

def transcript(path)
  buffer = StringIO.new
  saved = $stdout
  $stdout = buffer
  ui = Vagrant::UI::MachineReadable.new
  yield ui, Vagrant::UI::Prefixed.new(ui, "default")
  $stdout = saved
  File.write(path, buffer.string)
end

def t(key, **values) = I18n.t("vagrant.#{key}", **values)

BOX = "bento/amazonlinux-2023"
SCRIPT = "/tmp/vagrant-shell20261129-41877-1q9z8kd.sh"

def boot(ui, m)
  m.machine("metadata", "provider", "virtualbox")
  ui.info(t("commands.up.upping", name: "default", provider: "virtualbox"))
  m.machine("action", "up", "start")
  m.info(t("actions.vm.import.importing", name: BOX)); wait(21)
  m.info(t("actions.vm.match_mac.matching"))
  m.output(t("box_outdated_checking_with_refresh", name: BOX, version: "202502.21.0")); wait(1)
  m.info(t("actions.vm.set_name.setting_name", name: "default_default_1795924822318_52108"))
  m.info(t("actions.vm.clear_network_interfaces.deleting"))
  m.output(t("actions.vm.network.preparing"))
  m.detail(t("virtualbox.network_adapter", adapter: "1", type: "nat", extra: ""))
  m.output(t("actions.vm.forward_ports.forwarding"))
  m.detail(t("actions.vm.forward_ports.forwarding_entry", guest_port: 80, host_port: 8080, adapter: 1))
  m.detail(t("actions.vm.forward_ports.forwarding_entry", guest_port: 22, host_port: 2222, adapter: 1))
  m.info(t("actions.vm.customize.running", event: "pre-boot"))
  m.info(t("actions.vm.boot.booting")); wait(2)
  m.output(t("boot_waiting")); wait(30)
  m.detail("SSH address: 127.0.0.1:2222")
  m.detail("SSH username: vagrant")
  m.detail("SSH auth method: private key")
  m.detail("\n" + t("inserting_insecure_detected"))
  m.detail("\n" + t("inserting_random_key"))
  m.detail(t("inserting_remove_key"))
  m.detail(t("inserted_key")); wait(3)
  m.output(t("boot_completed"))
  m.output(t("virtualbox.checking_guest_additions"))
  m.info(t("actions.vm.hostname.setting")); wait(1)
end

# The shell provisioner: Vagrant's messages, then each line the hand-off prints
# (ui.detail of the chomped line, as the shell provisioner's LineBuffer does).
def provision(m, lines)
  m.info(t("actions.vm.provision.beginning", provisioner: "bootstrap (shell)"))
  m.detail(t("provisioners.shell.running", script: SCRIPT))
  lines.each { |line| wait(4); m.detail(line) }
end

PHASES = [
  "NEPHO_PHASE 1/6 Updating the system",
  "Last metadata expiration check: 0:00:41 ago on Sun Nov 29 04:01:02 2026.",
  "Dependencies resolved.",
  "Nothing to do.",
  "NEPHO_PHASE 2/6 Installing Apache, PHP and tools",
  "Installed: httpd-2.4.62-1.amzn2023.x86_64, php8.3-8.3.10-1.amzn2023.0.1.x86_64",
  "NEPHO_PHASE 3/6 Installing and securing MariaDB",
  "NEPHO_PHASE 4/6 Downloading MediaWiki 1.43.1",
  "mediawiki-1.43.1.tar.gz   50%\r100%",
  "",
  "NEPHO_PHASE 5/6 Installing MediaWiki",
  "NEPHO_PHASE 6/6 Starting the web server",
]

def error_exit(ui, error)
  ui.error(error.message, prefix: false)
  ui.machine("error-exit", error.class.to_s, error.message.to_s)
end

transcript(File.join(out_dir, "up-success.txt")) do |ui, m|
  boot(ui, m)
  provision(m, PHASES + ["NEPHO_RESULT SUCCESS bootstrap finished: NEPHO_PHASE 6/6 Starting the web server"])
  m.machine("action", "up", "end")
end

transcript(File.join(out_dir, "up-provisioner-fails.txt")) do |ui, m|
  boot(ui, m)
  provision(m, PHASES.first(7) + [
    "Job for mariadb.service failed because the control process exited with error code.",
    "See \"systemctl status mariadb.service\" and \"journalctl -xeu mariadb.service\" for details.",
    "NEPHO_RESULT FAILURE bootstrap exited with status 1: NEPHO_PHASE 3/6 Installing and securing MariaDB Job for mariadb.service failed because the control process exited with error code. See \"systemctl status mariadb.service\" and \"journalctl -xeu mariadb.service\" for details. ",
  ])
  # The communicator raises VagrantError with the muted key; the action never ends.
  error_exit(ui, Vagrant::Errors::VagrantError.new(_key: :ssh_bad_exit_status_muted))
end

transcript(File.join(out_dir, "provision.txt")) do |ui, m|
  m.machine("metadata", "provider", "virtualbox")
  m.machine("action", "provision", "start")
  provision(m, PHASES + ["NEPHO_RESULT SUCCESS bootstrap finished: NEPHO_PHASE 6/6 Starting the web server"])
  m.machine("action", "provision", "end")
end

transcript(File.join(out_dir, "halt.txt")) do |ui, m|
  m.machine("metadata", "provider", "virtualbox")
  m.machine("action", "halt", "start")
  m.output(t("actions.vm.halt.graceful")); wait(9)
  m.machine("action", "halt", "end")
end

transcript(File.join(out_dir, "destroy.txt")) do |ui, m|
  m.machine("metadata", "provider", "virtualbox")
  m.machine("action", "destroy", "start")
  m.info(t("actions.vm.halt.force")); wait(2)
  m.info(t("actions.vm.destroy.destroying")); wait(3)
  m.machine("action", "destroy", "end")
end

# `vagrant ssh-config` (plain) through Vagrant's own template.
File.write(File.join(out_dir, "ssh-config.txt"), Vagrant::Util::TemplateRenderer.render(
  "commands/ssh_config/config", host_key: "default", ssh_host: "127.0.0.1", ssh_port: 2222,
  ssh_user: "vagrant", keys_only: true, verify_host_key: false,
  private_key_path: ["/home/ada/.nepho/formations/wiki/.vagrant/machines/default/virtualbox/private_key"],
  log_level: nil, forward_agent: false, forward_x11: false, proxy_command: nil, config: nil) + "\n")
