# Two entry points for a fresh Debian 12 machine (run as root): `make demo` and `make test`.
APT_PACKAGES = keepalived mariadb-server mariadb-client galera-4 openssh-server openssh-client rsync \
               iproute2 procps util-linux python3 python3-pip tmux sudo
PYTHON ?= python3

.PHONY: deps demo test lab-down mutation

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

# Mutation testing (docs/testing.md): slow (about an hour on 2 cores), never run by CI or `make test`.
# MUTATION_JOBS: parallel test processes; `make mutation MUTANTS='hatui.config.*'` runs one file's mutants.
MUTATION_JOBS ?= 2
MUTANTS ?=
mutation:
	@$(PYTHON) -c 'import mutmut' 2>/dev/null || $(PYTHON) -m pip install -q -c scripts/constraints.txt 'mutmut'
	$(PYTHON) -m mutmut run --max-children $(MUTATION_JOBS) $(MUTANTS)
	$(PYTHON) scripts/mutation_report.py
