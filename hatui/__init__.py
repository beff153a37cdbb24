"""hatui: watch and steer a keepalived + MariaDB/Galera + DRBD active-standby pair."""

__version__ = "0.1.0"
