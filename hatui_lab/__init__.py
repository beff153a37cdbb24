"""The rehearsal lab: a real keepalived + MariaDB/Galera pair, with emulated DRBD, on one machine."""
