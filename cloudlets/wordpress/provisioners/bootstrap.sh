#!/usr/bin/env bash
# shellcheck disable=SC2016  # PHP code is written in single quotes on purpose
# nepho provisioner for the wordpress cloudlet: a WordPress web server on Amazon Linux
# 2023 (Apache httpd, PHP-FPM) whose site files live on a shared EFS file system and
# whose database is on RDS. Runs as root, once, and prints NEPHO_PHASE lines. The first
# server to get the lock on the shared files installs WordPress; the others reuse it.
#
# Inputs (environment; set by the pattern's user data):
#   WP_SITE_URL               public base URL, e.g. https://blog.example.com (required)
#   WP_TITLE                  site title (required)
#   WP_ADMIN_USER             first administrator (required)
#   WP_ADMIN_EMAIL            the administrator's e-mail address (required)
#   WP_ADMIN_PASSWORD_SECRET  Secrets Manager id holding the administrator password (required)
#   WP_VERSION                "latest" or a release such as 6.8.3 (default latest)
#   WP_DB_HOST                database host (required)
#   WP_DB_NAME                database name (default wordpress)
#   WP_DB_SECRET              Secrets Manager id of {"username","password"} (required)
#   WP_EFS_ID                 EFS file system holding the site files (required)
#   WP_TRUSTED_PROXY_CIDR     load balancer network (documentation only; ALB sets X-Forwarded-*)
#   AWS_REGION                region of the secrets (required)
set -euo pipefail
umask 022

readonly TOTAL=6
phase() { printf 'NEPHO_PHASE %d/%d %s\n' "$1" "$TOTAL" "$2"; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

: "${WP_SITE_URL:?WP_SITE_URL is required}"
: "${WP_TITLE:?WP_TITLE is required}"
: "${WP_ADMIN_USER:?WP_ADMIN_USER is required}"
: "${WP_ADMIN_EMAIL:?WP_ADMIN_EMAIL is required}"
: "${WP_ADMIN_PASSWORD_SECRET:?WP_ADMIN_PASSWORD_SECRET is required}"
: "${WP_DB_HOST:?WP_DB_HOST is required}"
: "${WP_DB_SECRET:?WP_DB_SECRET is required}"
: "${WP_EFS_ID:?WP_EFS_ID is required}"
: "${AWS_REGION:?AWS_REGION is required}"
WP_VERSION="${WP_VERSION:-latest}"
WP_DB_NAME="${WP_DB_NAME:-wordpress}"
PHP="${PHP_PACKAGE_PREFIX:-php8.3}"
readonly SHARED=/mnt/wordpress
readonly DOCROOT="$SHARED/htdocs"

secret() { aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$1" --query SecretString --output text; }
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
php_quote() { php -r 'echo var_export($argv[1], true);' -- "$1"; }

phase 1 "Installing Apache, PHP and tools"
dnf -y -q install httpd "$PHP" "$PHP-fpm" "$PHP-cli" "$PHP-mysqlnd" "$PHP-gd" "$PHP-mbstring" \
    "$PHP-xml" "$PHP-intl" "$PHP-opcache" amazon-efs-utils openssl tar gzip

phase 2 "Configuring PHP and Apache"
cat > /etc/php.d/90-wordpress.ini <<'INI'
upload_max_filesize = 64M
post_max_size = 72M
memory_limit = 256M
max_execution_time = 120
expose_php = Off
opcache.memory_consumption = 128
INI
install -d -m 0755 /var/www/health
printf '<?php\nheader("Content-Type: text/plain");\necho "ok\\n";\n' > /var/www/health/index.php
cat > /etc/httpd/conf.d/wordpress.conf <<CONF
ServerTokens Prod
TraceEnable Off
<VirtualHost *:80>
    DocumentRoot $DOCROOT
    DirectoryIndex index.php index.html
    Alias /healthz /var/www/health/index.php
    <Directory /var/www/health>
        Require all granted
    </Directory>
    <Directory $DOCROOT>
        Options FollowSymLinks
        AllowOverride None
        Require all granted
        RewriteEngine On
        RewriteBase /
        RewriteRule ^index\.php\$ - [L]
        RewriteCond %{REQUEST_FILENAME} !-f
        RewriteCond %{REQUEST_FILENAME} !-d
        RewriteRule . /index.php [L]
    </Directory>
    # Uploads are data, never code; XML-RPC is a favourite of brute-force attacks.
    <Directory $DOCROOT/wp-content/uploads>
        <FilesMatch "\.(php|phtml|phar)\$">
            SetHandler None
            Require all denied
        </FilesMatch>
    </Directory>
    <Files "xmlrpc.php">
        Require all denied
    </Files>
    <Files "wp-config.php">
        Require all denied
    </Files>
</VirtualHost>
CONF

phase 3 "Mounting the shared files and reading the secrets"
install -d "$SHARED"
grep -q " $SHARED " /etc/fstab || echo "$WP_EFS_ID:/ $SHARED efs _netdev,tls,noresvport 0 0" >> /etc/fstab
for _ in $(seq 30); do
    mountpoint -q "$SHARED" && break
    mount "$SHARED" || sleep 10
done
mountpoint -q "$SHARED" || die "could not mount $WP_EFS_ID on $SHARED"
credentials="$(secret "$WP_DB_SECRET")"
db_user="$(json_field username <<<"$credentials")"
db_pass="$(json_field password <<<"$credentials")"
admin_pass="$(secret "$WP_ADMIN_PASSWORD_SECRET")"
# PHP's own driver speaks MySQL 8.4's default authentication (caching_sha2_password) over TLS.
db_check='mysqli_report(MYSQLI_REPORT_OFF);
$db = mysqli_init();
$flags = MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT;
if (!@$db->real_connect(getenv("DB_HOST"), getenv("DB_USER"), getenv("DB_PASS"), "", 3306, null, $flags)) { exit(1); }
$name = str_replace("`", "", getenv("DB_NAME"));
exit($db->query("CREATE DATABASE IF NOT EXISTS `$name` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci") ? 0 : 2);'
ready=no
for _ in $(seq 60); do
    if DB_HOST="$WP_DB_HOST" DB_USER="$db_user" DB_PASS="$db_pass" DB_NAME="$WP_DB_NAME" php -r "$db_check"; then
        ready=yes
        break
    fi
    sleep 10
done
[ "$ready" = yes ] || die "the database $WP_DB_HOST does not accept connections"

phase 4 "Installing the WordPress $WP_VERSION files"
exec 9>"$SHARED/.install.lock"
flock 9
if [ ! -s "$DOCROOT/wp-config.php" ]; then
    if [ "$WP_VERSION" = latest ]; then name=latest; else name="wordpress-$WP_VERSION"; fi
    work="$(mktemp -d)"
    curl -fsSL --retry 5 -o "$work/wordpress.tar.gz" "https://wordpress.org/$name.tar.gz"
    curl -fsSL --retry 5 -o "$work/wordpress.tar.gz.sha1" "https://wordpress.org/$name.tar.gz.sha1"
    echo "$(cat "$work/wordpress.tar.gz.sha1")  $work/wordpress.tar.gz" | sha1sum -c --quiet - ||
        die "the WordPress download does not match its published checksum"
    tar -xzf "$work/wordpress.tar.gz" -C "$work" --no-same-owner
    rm -rf "$DOCROOT.new"
    mv "$work/wordpress" "$DOCROOT.new"
    rm -rf "$work"
    {
        echo '<?php'
        echo '// Written by the nepho wordpress cloudlet.'
        echo "define('DB_NAME', $(php_quote "$WP_DB_NAME"));"
        echo "define('DB_USER', $(php_quote "$db_user"));"
        echo "define('DB_PASSWORD', $(php_quote "$db_pass"));"
        echo "define('DB_HOST', $(php_quote "$WP_DB_HOST"));"
        echo "define('DB_CHARSET', 'utf8mb4');"
        echo "define('DB_COLLATE', '');"
        echo "define('MYSQL_CLIENT_FLAGS', MYSQLI_CLIENT_SSL | MYSQLI_CLIENT_SSL_DONT_VERIFY_SERVER_CERT);"
        for key in AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT; do
            echo "define('$key', '$(openssl rand -hex 32)');"
        done
        echo "define('WP_HOME', $(php_quote "$WP_SITE_URL"));"
        echo "define('WP_SITEURL', $(php_quote "$WP_SITE_URL"));"
        echo "define('FS_METHOD', 'direct');"
        echo "define('DISALLOW_FILE_EDIT', true);"
        echo "define('WP_AUTO_UPDATE_CORE', 'minor');"
        echo '// TLS ends at the load balancer.'
        echo 'if (($_SERVER["HTTP_X_FORWARDED_PROTO"] ?? "") === "https") { $_SERVER["HTTPS"] = "on"; }'
        echo '$table_prefix = '"'wp_';"
        echo "if (!defined('ABSPATH')) { define('ABSPATH', __DIR__ . '/'); }"
        echo "require_once ABSPATH . 'wp-settings.php';"
    } > "$DOCROOT.new/wp-config.php"
    chown -R apache:apache "$DOCROOT.new"
    chmod 0640 "$DOCROOT.new/wp-config.php"
    rm -rf "$DOCROOT"
    mv "$DOCROOT.new" "$DOCROOT"
fi

phase 5 "Installing the WordPress site"
WP_ADMIN_PASSWORD="$admin_pass" runuser -u apache -- php -- "$DOCROOT" <<'PHP'
<?php
// Installs WordPress once: the title, the administrator and the password come from the environment.
$_SERVER['HTTP_HOST'] = parse_url(getenv('WP_SITE_URL'), PHP_URL_HOST);
define('WP_INSTALLING', true);
require $argv[1] . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
if (is_blog_installed()) {
    echo "WordPress is already installed\n";
    exit(0);
}
$result = wp_install(getenv('WP_TITLE'), getenv('WP_ADMIN_USER'), getenv('WP_ADMIN_EMAIL'), true, '', getenv('WP_ADMIN_PASSWORD'));
if (empty($result['user_id']) || is_wp_error($result['user_id'])) {
    fwrite(STDERR, "wp_install did not create the administrator\n");
    exit(1);
}
update_option('permalink_structure', '/%postname%/');
echo "WordPress installed\n";
PHP
flock -u 9

phase 6 "Starting the web server"
systemctl enable --now php-fpm httpd
systemctl reload httpd
for _ in $(seq 30); do
    curl -fsS -o /dev/null http://127.0.0.1/healthz &&
        curl -fsS -o /dev/null -H "Host: ${WP_SITE_URL#*://}" http://127.0.0.1/wp-login.php && exit 0
    sleep 2
done
die "WordPress does not answer on http://127.0.0.1/wp-login.php"
