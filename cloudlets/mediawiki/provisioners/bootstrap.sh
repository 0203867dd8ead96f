#!/usr/bin/env bash
# shellcheck disable=SC2016  # PHP code is written in single quotes on purpose
# nepho provisioner for the mediawiki cloudlet: MediaWiki on Amazon Linux 2023 with
# Apache httpd and PHP-FPM. Runs as root, once, and prints NEPHO_PHASE lines.
#
# Inputs (environment; set by the pattern's user data, or by the Vagrantfile):
#   MW_SITE_NAME             wiki name (required)
#   MW_VERSION               MediaWiki release, e.g. 1.43.1 (required)
#   MW_ADMIN_USER            first administrator (default Admin)
#   MW_ADMIN_PASSWORD_SECRET Secrets Manager id holding the admin password, or
#   MW_ADMIN_PASSWORD        the password itself (Vagrant); neither: one is generated
#                            and left in /root/mediawiki-admin-password
#   MW_DB_HOST               remote MySQL/MariaDB host; empty = local MariaDB server
#   MW_DB_SECRET             Secrets Manager id of {"username","password"} for MW_DB_HOST
#   MW_DB_NAME               database name (default wikidb)
#   MW_EFS_ID                EFS file system for LocalSettings.php and uploads, shared
#                            by every web server; empty = local disk
#   MW_SERVER                base URL; empty = taken from each request's Host header
#   MW_TRUSTED_PROXY_CIDR    load balancer network whose X-Forwarded-For is trusted
#   AWS_REGION               region of the secrets
set -euo pipefail
umask 022

readonly TOTAL=6
phase() { printf 'NEPHO_PHASE %d/%d %s\n' "$1" "$TOTAL" "$2"; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

: "${MW_SITE_NAME:?MW_SITE_NAME is required}"
: "${MW_VERSION:?MW_VERSION is required}"
MW_ADMIN_USER="${MW_ADMIN_USER:-Admin}"
MW_DB_NAME="${MW_DB_NAME:-wikidb}"
MW_DB_HOST="${MW_DB_HOST:-}"
MW_EFS_ID="${MW_EFS_ID:-}"
MW_SERVER="${MW_SERVER:-}"
MW_TRUSTED_PROXY_CIDR="${MW_TRUSTED_PROXY_CIDR:-}"
PHP="${PHP_PACKAGE_PREFIX:-php8.3}"

[[ "$MW_VERSION" =~ ^([0-9]+\.[0-9]+)\.[0-9]+$ ]] || die "MW_VERSION '$MW_VERSION' is not like 1.43.1"
readonly MW_BRANCH="${BASH_REMATCH[1]}"
readonly WEB_ROOT=/var/www/mediawiki
readonly SECRETS=/etc/mediawiki
if [ -n "$MW_EFS_ID" ]; then SHARED=/mnt/mediawiki; else SHARED=/var/lib/mediawiki; fi
readonly SHARED

secret() { aws secretsmanager get-secret-value --region "${AWS_REGION:?}" --secret-id "$1" --query SecretString --output text; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
random_password() { openssl rand -base64 36 | tr -d '/+=\n' | cut -c1-32; }

phase 1 "Installing Apache, PHP and tools"
packages=(httpd "$PHP" "$PHP-fpm" "$PHP-cli" "$PHP-mysqlnd" "$PHP-intl" "$PHP-mbstring"
    "$PHP-xml" "$PHP-gd" "$PHP-opcache" diffutils openssl tar gzip)
if [ -z "$MW_DB_HOST" ]; then packages+=(mariadb105-server); else packages+=(mariadb105); fi
[ -n "$MW_EFS_ID" ] && packages+=(amazon-efs-utils)
dnf -y -q install "${packages[@]}"

phase 2 "Configuring PHP and Apache"
cat > "/etc/php.d/90-mediawiki.ini" <<'INI'
upload_max_filesize = 20M
post_max_size = 24M
memory_limit = 256M
expose_php = Off
opcache.memory_consumption = 128
INI
install -d -m 0755 /var/www/health
printf '<?php\nheader("Content-Type: text/plain");\necho "ok\\n";\n' > /var/www/health/index.php
cat > /etc/httpd/conf.d/mediawiki.conf <<CONF
ServerTokens Prod
TraceEnable Off
<VirtualHost *:80>
    DocumentRoot $WEB_ROOT
    Alias /healthz /var/www/health/index.php
    <Directory /var/www/health>
        Require all granted
    </Directory>
    <Directory $WEB_ROOT>
        Options FollowSymLinks
        AllowOverride None
        Require all granted
    </Directory>
    # Uploaded files are data, never code.
    <Directory $WEB_ROOT/images>
        <FilesMatch "\.(php|phtml|phar)\$">
            SetHandler None
            Require all denied
        </FilesMatch>
        Header set X-Content-Type-Options nosniff
    </Directory>
    <DirectoryMatch "^$WEB_ROOT/(cache|includes|maintenance|languages|serialized|tests|vendor)">
        Require all denied
    </DirectoryMatch>
    RewriteEngine On
    RewriteRule ^/?wiki(/.*)?\$ %{DOCUMENT_ROOT}/index.php [L]
    RewriteRule ^/*\$ %{DOCUMENT_ROOT}/index.php [L]
</VirtualHost>
CONF

phase 3 "Preparing the database"
install -d -m 0700 "$SECRETS"
if [ -z "$MW_DB_HOST" ]; then
    systemctl enable --now mariadb
    db_host=localhost
    db_user=wikiuser
    if [ ! -s "$SECRETS/db-password" ]; then
        random_password > "$SECRETS/db-password"
    fi
    db_pass="$(cat "$SECRETS/db-password")"
    mysql --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS \`$MW_DB_NAME\` CHARACTER SET binary;
CREATE USER IF NOT EXISTS '$db_user'@'localhost' IDENTIFIED BY '$db_pass';
ALTER USER '$db_user'@'localhost' IDENTIFIED BY '$db_pass';
GRANT ALL PRIVILEGES ON \`$MW_DB_NAME\`.* TO '$db_user'@'localhost';
FLUSH PRIVILEGES;
SQL
else
    db_host="$MW_DB_HOST"
    credentials="$(secret "${MW_DB_SECRET:?MW_DB_SECRET is required with MW_DB_HOST}")"
    db_user="$(json_field username <<<"$credentials")"
    db_pass="$(json_field password <<<"$credentials")"
    printf '%s' "$db_pass" > "$SECRETS/db-password"
fi
chmod 0600 "$SECRETS/db-password"

if [ -n "${MW_ADMIN_PASSWORD_SECRET:-}" ]; then
    secret "$MW_ADMIN_PASSWORD_SECRET" > "$SECRETS/admin-password"
elif [ -n "${MW_ADMIN_PASSWORD:-}" ]; then
    printf '%s' "$MW_ADMIN_PASSWORD" > "$SECRETS/admin-password"
else
    if [ ! -s /root/mediawiki-admin-password ]; then
        random_password > /root/mediawiki-admin-password
        chmod 0600 /root/mediawiki-admin-password
    fi
    cp /root/mediawiki-admin-password "$SECRETS/admin-password"
    echo "bootstrap: the password of $MW_ADMIN_USER is in /root/mediawiki-admin-password"
fi
chmod 0600 "$SECRETS/admin-password"

if [ -n "$MW_EFS_ID" ]; then
    install -d "$SHARED"
    grep -q " $SHARED " /etc/fstab || echo "$MW_EFS_ID:/ $SHARED efs _netdev,tls,noresvport 0 0" >> /etc/fstab
    # A new mount target's DNS name can take a minute or two to resolve.
    for _ in $(seq 30); do
        mountpoint -q "$SHARED" && break
        mount "$SHARED" || sleep 10
    done
    mountpoint -q "$SHARED" || die "could not mount $MW_EFS_ID on $SHARED"
fi
install -d -m 0755 "$SHARED"
if [ -n "$MW_DB_HOST" ]; then
    printf '[client]\nhost=%s\nuser=%s\npassword="%s"\n' "$db_host" "$db_user" "$db_pass" > "$SECRETS/client.cnf"
    chmod 0600 "$SECRETS/client.cnf"
    ready=no
    for _ in $(seq 60); do
        if mysqladmin --defaults-extra-file="$SECRETS/client.cnf" --connect-timeout=5 ping >/dev/null 2>&1; then
            ready=yes
            break
        fi
        sleep 10
    done
    [ "$ready" = yes ] || die "the database $db_host does not accept connections"
fi

phase 4 "Downloading MediaWiki $MW_VERSION"
release="/var/www/mediawiki-$MW_VERSION"
if [ ! -d "$release" ]; then
    tarball="$(mktemp)"
    curl -fsSL --retry 5 -o "$tarball" \
        "https://releases.wikimedia.org/mediawiki/$MW_BRANCH/mediawiki-$MW_VERSION.tar.gz"
    install -d "$release.tmp"
    tar -xzf "$tarball" -C "$release.tmp" --strip-components=1 --no-same-owner
    rm -f "$tarball"
    mv "$release.tmp" "$release"
fi
ln -sfn "$release" "$WEB_ROOT"
install -d -o apache -g apache -m 0755 "$SHARED/images"
rm -rf "$release/images"
ln -sfn "$SHARED/images" "$release/images"

phase 5 "Installing the wiki"
(
    # One web server installs; the others wait for it and share its LocalSettings.php.
    exec 9>"$SHARED/.install.lock"
    flock 9
    if [ ! -s "$SHARED/LocalSettings.php" ]; then
        confdir="$(mktemp -d)"
        php "$release/maintenance/run.php" install \
            --confpath "$confdir" --dbtype mysql --dbserver "$db_host" --dbname "$MW_DB_NAME" \
            --dbuser "$db_user" --dbpassfile "$SECRETS/db-password" \
            --passfile "$SECRETS/admin-password" --scriptpath "" --lang en \
            --with-extensions "$MW_SITE_NAME" "$MW_ADMIN_USER"
        if [ -n "$MW_SERVER" ]; then
            sed -i "s|^\$wgServer = .*|\$wgServer = \"$MW_SERVER\";|" "$confdir/LocalSettings.php"
        else
            sed -i 's|^\$wgServer = .*|$wgServer = WebRequest::detectServer();|' "$confdir/LocalSettings.php"
        fi
        {
            echo ''
            echo '# Added by the nepho mediawiki cloudlet.'
            echo '$wgArticlePath = "/wiki/$1";'
            echo '$wgUsePathInfo = true;'
            echo '$wgEnableUploads = true;'
            echo '$wgUploadDirectory = "$IP/images";'
            if [ -n "$MW_EFS_ID" ]; then
                echo '$wgMainCacheType = CACHE_DB;'
                echo '$wgSessionCacheType = CACHE_DB;'
            fi
            if [ -n "$MW_TRUSTED_PROXY_CIDR" ]; then
                echo "\$wgCdnServersNoPurge = [ '$MW_TRUSTED_PROXY_CIDR' ];"
            fi
        } >> "$confdir/LocalSettings.php"
        install -o root -g apache -m 0640 "$confdir/LocalSettings.php" "$SHARED/LocalSettings.php"
        rm -rf "$confdir"
    fi
)
ln -sfn "$SHARED/LocalSettings.php" "$release/LocalSettings.php"
rm -f "$SECRETS/admin-password"

phase 6 "Starting the web server"
systemctl enable --now php-fpm httpd
systemctl reload httpd
for _ in $(seq 30); do
    curl -fsS -o /dev/null http://127.0.0.1/healthz && curl -fsS -o /dev/null http://127.0.0.1/wiki/Main_Page && exit 0
    sleep 2
done
die "the wiki does not answer on http://127.0.0.1/wiki/Main_Page"
