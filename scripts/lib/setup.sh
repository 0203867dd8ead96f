# Shared by scripts/test and scripts/demo: installs what nepho needs when it is missing.
# Sourced, not run. Honest on a fresh Debian machine: every tool used is installed here.

nepho_log() { printf '==> %s\n' "$*" >&2; }

# Debian packages: the system libraries nepho links against, and git.
nepho_install_system_packages() {
    local missing=()
    local pkg
    # python3 (Debian's): nephod's tests connect as the user nobody with it.
    for pkg in libyaml-dev libcurl4-openssl-dev libsqlite3-dev git pkg-config python3 "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    nepho_log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Python tools: moto's server (the local CloudFormation/S3 emulator) and cfn-lint.
nepho_install_python_tools() {
    local want=()
    command -v moto_server >/dev/null 2>&1 || want+=('moto[server]')
    command -v cfn-lint >/dev/null 2>&1 || want+=('cfn-lint')
    [ ${#want[@]} -eq 0 ] && return 0
    nepho_log "installing Python packages: ${want[*]}"
    python3 -m pip install --quiet "${want[@]}"
    hash -r
}

# Swift must already be on the machine (the toolchain is not a package).
nepho_require_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        echo "swift is not on PATH: install the Swift 6 toolchain first" >&2
        exit 1
    fi
}

# The AWS layer's tests and bench (issue 3): moto with its CloudFormation, Lambda and
# server parts (the test bench runs moto in-process), and the AWS CLI, which brings
# botocore (the SigV4 comparison) and is the peer of bench/aws-calls.
nepho_install_aws_tools() {
    local want=()
    python3 -c 'import moto.cloudformation.models, moto.awslambda.models, moto.moto_server.threaded_moto_server, flask, docker, yaml' \
        >/dev/null 2>&1 || want+=('moto[server,cloudformation]')
    command -v aws >/dev/null 2>&1 || want+=('awscli')
    [ ${#want[@]} -eq 0 ] && return 0
    nepho_log "installing Python packages: ${want[*]}"
    python3 -m pip install --quiet "${want[@]}"
    hash -r
}

# The registry's tests: openssl (a self-signed HTTPS server), python3 (a loopback HTTP
# server with ETag/304) and headless Chromium (the browsable registry page).
nepho_install_registry_test_tools() {
    nepho_install_system_packages openssl python3 chromium fonts-dejavu-core
}

# formation:ssh's end-to-end test: OpenSSH's server (run by the test on a loopback port
# as the current user, never as a system service) and client.
nepho_install_ssh() {
    nepho_install_system_packages openssh-server openssh-client
}

# The Vagrant provider's tests (issue 7): Debian's vagrant, installed with
# --no-install-recommends (like every package here), so no VirtualBox or libvirt
# comes with it; the tests run `vagrant validate -p` and `vagrant status`, which need none.
nepho_install_vagrant() {
    nepho_install_system_packages vagrant
}

# Real Vagrant machines (issue 19): Debian's docker.io (dockerd, containerd, runc) and
# debootstrap, which builds the test machine's image (scripts/vagrant-docker-image).
# apparmor too: where the kernel has AppArmor on, dockerd (20.10) cannot start a
# container without apparmor_parser to load its profile.
nepho_install_docker() {
    nepho_install_system_packages docker.io debootstrap apparmor
}

# Starts dockerd when none answers, and stops it when the calling script exits (only a
# daemon this function started: one already running is left alone). Its log and state
# beside the other daemons': /var/log/nepho-dockerd.log.
nepho_started_dockerd=""
nepho_start_docker() {
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    # Asked as root: a user outside the docker group cannot reach a running dockerd's
    # socket, and would otherwise start a second one.
    if $sudo docker info >/dev/null 2>&1; then return 0; fi
    nepho_log "starting dockerd (none is running; it is stopped at the end)"
    local pidfile=/run/nepho-dockerd.pid
    $sudo sh -c "dockerd --pidfile $pidfile >/var/log/nepho-dockerd.log 2>&1 &"
    local _
    for _ in $(seq 1 120); do
        if $sudo docker info >/dev/null 2>&1; then
            nepho_started_dockerd="$($sudo cat "$pidfile")"
            # Added to the caller's EXIT trap, not in its place: `trap -p` prints it
            # quoted for the shell (trap -- 'COMMAND' EXIT), taken apart again here.
            local previous
            local -a words=()
            previous="$(trap -p EXIT)"
            eval "words=($previous)"
            previous="${words[2]:-}"
            # shellcheck disable=SC2064  # expanded now on purpose: the command as it is
            trap "nepho_stop_docker${previous:+; $previous}" EXIT
            return 0
        fi
        sleep 0.5
    done
    echo "dockerd did not start within 60 s; its log:" >&2
    $sudo tail -20 /var/log/nepho-dockerd.log >&2
    exit 1
}

nepho_stop_docker() {
    [ -n "$nepho_started_dockerd" ] || return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    nepho_log "stopping the dockerd started for the tests (pid $nepho_started_dockerd)"
    $sudo kill "$nepho_started_dockerd" 2>/dev/null || true
    local _
    for _ in $(seq 1 60); do
        $sudo kill -0 "$nepho_started_dockerd" 2>/dev/null || break
        sleep 0.5
    done
    nepho_started_dockerd=""
}

# The docker image of the tests' Vagrant machines, built once and cached by content.
nepho_build_vagrant_image() {
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    NEPHO_VAGRANT_DOCKER_IMAGE="$($sudo scripts/vagrant-docker-image)"
    export NEPHO_VAGRANT_DOCKER_IMAGE
}
