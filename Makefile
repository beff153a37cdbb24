# Two entry points for a fresh Debian 12 machine (run as root): `make demo` and `make test`.
APT_PACKAGES = keepalived mariadb-server mariadb-client galera-4 openssh-server openssh-client rsync \
               iproute2 procps util-linux python3 python3-pip tmux sudo
PYTHON ?= python3

.PHONY: deps demo test lab-down

deps:
	@bash scripts/install-deps.sh $(APT_PACKAGES)

LAB_DIR ?= /var/lib/hatui-lab

demo: deps
	$(PYTHON) -m hatui lab up
	$(PYTHON) -m hatui --config $(LAB_DIR)/hatui-lab.yaml

test: deps
	lint-imports .importlinter
	$(PYTHON) -m pytest -ra

lab-down:
	$(PYTHON) -m hatui lab down
