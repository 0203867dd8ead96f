#!/usr/bin/env bash
# shellcheck disable=SC2016  # PHP code is written in single quotes on purpose
# nepho provisioner for the mediawiki cloudlet on Debian 12 (bookworm): Debian's own
# mediawiki package (1.39 LTS) with Apache httpd, mod_php and a local MariaDB. The same
# phases as bootstrap.sh (Amazon Linux 2023, which the AWS patterns embed: their user
# data must stay under EC2's 16 KB, so Debian's variant lives in its own file). Works
# with or without systemd (a container of Vagrant's docker provider has none).
#
# Inputs (environment, set by the Vagrantfile):
#   MW_SITE_NAME       wiki name (required)
#   MW_ADMIN_USER      first administrator (default Admin)
#   MW_ADMIN_PASSWORD  its password; empty: one is generated and left in
#                      /root/mediawiki-admin-password
#   MW_SERVER          base URL; empty = taken from each request's Host header
set -euo pipefail
umask 022

readonly TOTAL=6
phase() { printf 'NEPHO_PHASE %d/%d %s\n' "$1" "$TOTAL" "$2"; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

: "${MW_SITE_NAME:?MW_SITE_NAME is required}"
MW_ADMIN_USER="${MW_ADMIN_USER:-Admin}"
MW_SERVER="${MW_SERVER:-}"
readonly DB_NAME=wikidb
readonly RELEASE=/usr/share/mediawiki
readonly SHARED=/var/lib/mediawiki
readonly SECRETS=/etc/nepho-mediawiki
[ -f /etc/debian_version ] || die "this script is for Debian; bootstrap.sh is for Amazon Linux 2023"

random_password() { openssl rand -base64 36 | tr -d '/+=\n' | cut -c1-32; }
# systemd where it runs, else the init scripts (a container).
start() {
    if [ -d /run/systemd/system ]; then
        systemctl enable --now "$1"
    else
        service "$1" start
    fi
}

phase 1 "Installing Apache, PHP, MariaDB and MediaWiki"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends apache2 libapache2-mod-php php-mysql php-intl \
    php-mbstring php-xml php-gd php-apcu mariadb-server mediawiki curl openssl ca-certificates >/dev/null

phase 2 "Configuring PHP and Apache"
for dir in /etc/php/*/apache2/conf.d; do
    cat > "$dir/90-mediawiki.ini" <<'INI'
upload_max_filesize = 20M
post_max_size = 24M
memory_limit = 256M
expose_php = Off
INI
done
install -d -m 0755 /var/www/health
printf '<?php\nheader("Content-Type: text/plain");\necho "ok\\n";\n' > /var/www/health/index.php
cat > /etc/apache2/sites-available/mediawiki.conf <<CONF
ServerTokens Prod
TraceEnable Off
<VirtualHost *:80>
    DocumentRoot $RELEASE
    Alias /healthz /var/www/health/index.php
    <Directory /var/www/health>
        Require all granted
    </Directory>
    <Directory $RELEASE>
        Options FollowSymLinks
        AllowOverride None
        Require all granted
    </Directory>
    # Uploaded files are data, never code.
    <Directory $RELEASE/images>
        <FilesMatch "\.(php|phtml|phar)\$">
            SetHandler None
            Require all denied
        </FilesMatch>
        Header set X-Content-Type-Options nosniff
    </Directory>
    <DirectoryMatch "^$RELEASE/(cache|includes|maintenance|languages|serialized|tests|vendor)">
        Require all denied
    </DirectoryMatch>
    RewriteEngine On
    RewriteRule ^/?wiki(/.*)?\$ %{DOCUMENT_ROOT}/index.php [L]
    RewriteRule ^/*\$ %{DOCUMENT_ROOT}/index.php [L]
</VirtualHost>
CONF
# Debian's own alias (/mediawiki) is not used: the wiki is the site.
a2disconf -q mediawiki >/dev/null 2>&1 || true
a2dissite -q 000-default >/dev/null
a2enmod -q rewrite headers >/dev/null
a2ensite -q mediawiki >/dev/null

phase 3 "Preparing the database"
install -d -m 0700 "$SECRETS"
start mariadb
db_user=wikiuser
if [ ! -s "$SECRETS/db-password" ]; then
    random_password > "$SECRETS/db-password"
fi
chmod 0600 "$SECRETS/db-password"
db_pass="$(cat "$SECRETS/db-password")"
mysql --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET binary;
CREATE USER IF NOT EXISTS '$db_user'@'localhost' IDENTIFIED BY '$db_pass';
ALTER USER '$db_user'@'localhost' IDENTIFIED BY '$db_pass';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$db_user'@'localhost';
FLUSH PRIVILEGES;
SQL
if [ -n "${MW_ADMIN_PASSWORD:-}" ]; then
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

phase 4 "Using Debian's MediaWiki $(dpkg-query -W -f='${Version}' mediawiki)"
install -d -o www-data -g www-data -m 0755 "$SHARED/images"

phase 5 "Installing the wiki"
if [ ! -s "$SHARED/LocalSettings.php" ]; then
    confdir="$(mktemp -d)"
    php "$RELEASE/maintenance/install.php" \
        --confpath "$confdir" --dbtype mysql --dbserver localhost --dbname "$DB_NAME" \
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
    } >> "$confdir/LocalSettings.php"
    install -o root -g www-data -m 0640 "$confdir/LocalSettings.php" "$SHARED/LocalSettings.php"
    rm -rf "$confdir"
fi
# Debian's package links LocalSettings.php to /etc/mediawiki; the wiki's is in $SHARED.
ln -sfn "$SHARED/LocalSettings.php" "$RELEASE/LocalSettings.php"
rm -f "$SECRETS/admin-password"

phase 6 "Starting the web server"
start apache2
if [ -d /run/systemd/system ]; then systemctl reload apache2; else service apache2 reload; fi
for _ in $(seq 30); do
    curl -fsS -o /dev/null http://127.0.0.1/healthz && curl -fsS -o /dev/null http://127.0.0.1/wiki/Main_Page && exit 0
    sleep 2
done
die "the wiki does not answer on http://127.0.0.1/wiki/Main_Page"
