#!/usr/bin/env python3
"""Checks deploy/helm/sauve and deploy/examples: renders the chart for several
sets of values, validates every manifest against Kubernetes' schemas, and
asserts what matters for Sauve (one replica on SQLite, the refusals, the
security context, the probes, credentials from a Secret only).

    python3 tests/deploy/helm/check.py          # exits 1 on any failure

Renders with `helm template` when Helm is installed and with the renderer
beside this file otherwise (Helm is not in Debian; its releases come from a
host this project cannot reach); with Helm present it renders with both and
compares. Needs PyYAML and kubernetes-validate (scripts/setup installs both).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
CHART = os.path.join(ROOT, "deploy", "helm", "sauve")
EXAMPLES = os.path.join(ROOT, "deploy", "examples")
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ beside the test

import render  # noqa: E402  (the renderer beside this file)

# The version scripts/setup installs; a different one may know other schemas.
KUBERNETES_VALIDATE_VERSION = "1.37.0"
# The oldest Kubernetes the chart claims (Chart.yaml's kubeVersion), a common
# one, and the newest the pinned kubernetes-validate knows.
KUBE_VERSIONS = ("1.27.0", "1.30.0", "1.37.0")
NAMESPACE = "backup"
RELEASE = "sauve"

failures: list[str] = []
checked: list[str] = []


def check(cond, what):
    if cond:
        checked.append(what)
        print(f"  ok   {what}")
    else:
        failures.append(what)
        print(f"  FAIL {what}")
    return cond


def section(title):
    print(f"\n== {title}")


# ---------------------------------------------------------------------------
# Rendering.
# ---------------------------------------------------------------------------


class _NoDuplicates(yaml.SafeLoader):
    pass


def _mapping(loader, node, deep=False):
    keys = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=deep)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", k.start_mark)
        keys.add(key)
    return loader.construct_mapping(node, deep=deep)


_NoDuplicates.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def parse_docs(text, source):
    docs = []
    for raw in render.split_documents(text):
        try:
            doc = yaml.load(raw, Loader=_NoDuplicates)
        except yaml.YAMLError as e:
            lines = "\n".join(f"{i + 1:4} {line}" for i, line in enumerate(raw.splitlines()))
            raise render.TemplateError(f"{source} renders invalid YAML: {e}\n{lines}") from None
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ValueError(f"{source}: a document that is not a mapping")
        docs.append(doc)
    return docs


HELM = shutil.which("helm")
GO_SRC = os.path.join(HERE, "gotpl", "main.go")
SPRIG_SRC = "/usr/share/gocode/src/github.com/Masterminds/sprig"


def build_go_engine():
    """gotpl/main.go built with Debian's Go and Sprig, or None when they are absent."""
    go = shutil.which("go")
    if not go or not os.path.isdir(SPRIG_SRC):
        print("Go cross-check skipped: needs Debian's golang-go, golang-github-masterminds-sprig-dev "
              "and golang-gopkg-yaml.v2-dev")
        return None
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sauve", "gotpl")
    exe = os.path.join(cache, "gotpl")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(GO_SRC):
        os.makedirs(cache, exist_ok=True)
        env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="",
                   GOCACHE=os.path.join(cache, "go-build"))
        p = subprocess.run([go, "build", "-o", exe, GO_SRC], env=env, capture_output=True, text=True)
        if p.returncode != 0:
            print(p.stderr)
            check(False, "tests/deploy/helm/gotpl builds with Debian's Go and Sprig")
            return None
    return exe


GO_ENGINE = None


def go_render(values):
    """{"out": {file: text}} or {"error": message} from Go's text/template and Sprig."""
    meta, merged = render.chart_values(CHART, [values])
    chart = {v: meta.get(k) for k, v in render.CHART_FIELDS.items()}
    p = subprocess.run([GO_ENGINE, os.path.join(CHART, "templates")], capture_output=True, text=True,
                       input=json.dumps({"values": merged, "chart": chart, "release": RELEASE,
                                         "namespace": NAMESPACE}))
    if p.returncode != 0:
        return {"error": f"gotpl failed: {p.stderr}"}
    return json.loads(p.stdout)


def compare_with_go(values, out, notes):
    import difflib
    got = go_render(values)
    if not check("out" in got, "Go's text/template renders these values too"
                 + (f" ({got['error']})" if "error" in got else "")):
        return
    mine = dict(out)
    mine["templates/NOTES.txt"] = notes
    diffs = [path for path in sorted(set(mine) | set(got["out"])) if mine.get(path) != got["out"].get(path)]
    for path in diffs:
        print("".join(list(difflib.unified_diff(
            (got["out"].get(path) or "").splitlines(True), (mine.get(path) or "").splitlines(True),
            f"go:{path}", f"render.py:{path}"))[:40]))
    check(not diffs, f"render.py's text is Go text/template's, byte for byte ({len(mine)} files; differ: {diffs})")


def render_with_helm(values):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(values, f)
        path = f.name
    try:
        p = subprocess.run([HELM, "template", RELEASE, CHART, "--namespace", NAMESPACE, "-f", path],
                           capture_output=True, text=True)
    finally:
        os.unlink(path)
    return p.returncode, p.stdout, p.stderr


def render_case(values):
    """(docs, notes) from the renderer; with Helm installed, also compared with it."""
    out, notes = render.render_chart(CHART, [values], release=RELEASE, namespace=NAMESPACE)
    if GO_ENGINE:
        compare_with_go(values, out, notes)
    docs = []
    for path, text in out.items():
        docs += parse_docs(text, path)
    if HELM:
        rc, stdout, stderr = render_with_helm(values)
        if check(rc == 0, "helm template renders these values too"):
            # A YAML stream: a block scalar keeps its newline before the next ---.
            helm_docs = [d for d in yaml.load_all(stdout, Loader=_NoDuplicates) if d is not None]
            key = lambda d: (d["kind"], d["metadata"]["name"])  # noqa: E731
            check(sorted(helm_docs, key=key) == sorted(docs, key=key),
                  "helm template and the renderer give the same manifests")
        else:
            print(stderr)
    return docs, notes


def refusal(values):
    """The message the chart fails with for these values, or None."""
    try:
        render.render_chart(CHART, [values], release=RELEASE, namespace=NAMESPACE)
    except render.Fail as e:
        msg = str(e)
    else:
        msg = None
    if GO_ENGINE:
        got = go_render(values)
        check(("error" in got) == (msg is not None) and (msg is None or msg in got["error"]),
              "Go's text/template refuses the same values with the same message")
    if HELM:
        rc, _, stderr = render_with_helm(values)
        check((rc != 0) == (msg is not None) and (msg is None or msg in stderr),
              "helm template refuses the same values with the same message")
    return msg


# ---------------------------------------------------------------------------
# Kubernetes schemas.
# ---------------------------------------------------------------------------


def load_validator():
    try:
        import kubernetes_validate
        from importlib.metadata import version
    except ImportError:
        print(f"kubernetes-validate is missing: python3 -m pip install "
              f"kubernetes-validate=={KUBERNETES_VALIDATE_VERSION} (scripts/setup does it)")
        sys.exit(1)
    v = version("kubernetes-validate")
    if v != KUBERNETES_VALIDATE_VERSION:
        print(f"kubernetes-validate {v} is installed, the test pins {KUBERNETES_VALIDATE_VERSION}: "
              f"python3 -m pip install kubernetes-validate=={KUBERNETES_VALIDATE_VERSION}")
        sys.exit(1)
    return kubernetes_validate


def validate(kv, doc, label):
    """Strict schema validation against each pinned Kubernetes version."""
    name = f"{label}: {doc.get('kind')} {doc.get('metadata', {}).get('name')}"
    for kube in KUBE_VERSIONS:
        try:
            kv.validate(doc, kube, strict=True)
        except kv.ValidationError as e:
            path = "/".join(str(p) for p in e.path)
            check(False, f"{name} is valid for Kubernetes {kube} (at {path}: {e.message})")
            return
        except kv.SchemaNotFoundError:
            check(False, f"{name}: Kubernetes {kube} has no schema for {doc.get('apiVersion')} {doc.get('kind')}")
            return
    check(True, f"{name} is valid for Kubernetes {', '.join(KUBE_VERSIONS)} (strict)")


# ServiceMonitor is a CRD kubernetes-validate does not know: check its shape
# here, with the fields of monitoring.coreos.com/v1 the chart may use.
SM_SPEC_KEYS = {"jobLabel", "selector", "namespaceSelector", "endpoints", "targetLabels",
                "podTargetLabels", "sampleLimit", "attachMetadata"}
SM_ENDPOINT_KEYS = {"port", "targetPort", "path", "scheme", "interval", "scrapeTimeout",
                    "authorization", "tlsConfig", "honorLabels", "metricRelabelings",
                    "relabelings", "params", "followRedirects", "enableHttp2"}
DURATION = re.compile(r"^(\d+(ms|s|m|h|d|w|y))+$")


def check_service_monitor(sm, service, secret, label):
    check(sm.get("apiVersion") == "monitoring.coreos.com/v1",
          f"{label}: ServiceMonitor apiVersion is monitoring.coreos.com/v1")
    spec = sm.get("spec", {})
    check(set(spec) <= SM_SPEC_KEYS, f"{label}: ServiceMonitor spec has only known fields ({sorted(spec)})")
    sel = spec.get("selector", {}).get("matchLabels", {})
    svc_labels = service["metadata"].get("labels", {})
    check(sel and all(svc_labels.get(k) == v for k, v in sel.items()),
          f"{label}: ServiceMonitor selector matches the Service's labels")
    check(spec.get("namespaceSelector", {}).get("matchNames") == [NAMESPACE],
          f"{label}: ServiceMonitor looks in the release's namespace")
    check(spec.get("jobLabel") in svc_labels and svc_labels[spec["jobLabel"]] == "sauve",
          f"{label}: ServiceMonitor's job label is \"sauve\" (deploy/prometheus/alerts.yml's up{{job=\"sauve\"}})")
    eps = spec.get("endpoints", [])
    check(len(eps) == 1, f"{label}: ServiceMonitor has one endpoint")
    port_names = [p["name"] for p in service["spec"]["ports"]]
    for ep in eps:
        check(set(ep) <= SM_ENDPOINT_KEYS, f"{label}: ServiceMonitor endpoint has only known fields ({sorted(ep)})")
        check(ep.get("port") in port_names, f"{label}: ServiceMonitor scrapes the Service's named port")
        check(ep.get("path") == "/metrics", f"{label}: ServiceMonitor scrapes /metrics")
        for k in ("interval", "scrapeTimeout"):
            check(isinstance(ep.get(k), str) and DURATION.match(ep[k]),
                  f"{label}: ServiceMonitor {k} is a Prometheus duration")
        auth = ep.get("authorization", {})
        check(auth.get("type") == "Bearer" and auth.get("credentials") == {"name": secret, "key": "metrics-token"},
              f"{label}: ServiceMonitor sends the metrics:read token from Secret {secret}, key metrics-token")


# ---------------------------------------------------------------------------
# What the chart must get right.
# ---------------------------------------------------------------------------

SECRET_ENV = re.compile(r"(DATABASE_URL|SECRET|MASTER_KEY|PASSWORD|PASSPHRASE|TOKEN)$")


def by_kind(docs):
    out = {}
    for d in docs:
        out.setdefault(d["kind"], []).append(d)
    return out


def one(kinds, kind, label):
    got = kinds.get(kind, [])
    check(len(got) == 1, f"{label}: one {kind}")
    return got[0] if got else None


def env_of(container):
    return {e["name"]: e for e in container.get("env", [])}


def check_no_inline_secrets(docs, label):
    check(not any(d["kind"] == "Secret" for d in docs), f"{label}: the chart creates no Secret")
    text = yaml.safe_dump_all(docs)
    check("postgres://" not in text and "AGE-SECRET-KEY" not in text,
          f"{label}: no database URL or master key in any manifest")
    for d in docs:
        for c in d.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            for e in c.get("env", []):
                if SECRET_ENV.search(e["name"]):
                    check("value" not in e and "secretKeyRef" in e.get("valueFrom", {}),
                          f"{label}: {e['name']} comes from a secretKeyRef, never a value")


def check_pod(dep, label):
    pod = dep["spec"]["template"]["spec"]
    psc = pod.get("securityContext", {})
    (c,) = pod["containers"]
    sc = c.get("securityContext", {})
    for where, ctx in (("pod", psc), ("container", sc)):
        check(ctx.get("runAsNonRoot") is True and ctx.get("runAsUser") == 10001,
              f"{label}: {where} runs as non-root uid 10001")
        check(ctx.get("seccompProfile") == {"type": "RuntimeDefault"},
              f"{label}: {where} seccompProfile RuntimeDefault")
    check(psc.get("fsGroup") == 10001, f"{label}: fsGroup 10001 (the data volume is writable)")
    check(sc.get("readOnlyRootFilesystem") is True, f"{label}: readOnlyRootFilesystem")
    check(sc.get("allowPrivilegeEscalation") is False, f"{label}: allowPrivilegeEscalation false")
    check(sc.get("capabilities") == {"drop": ["ALL"]}, f"{label}: capabilities drop ALL")
    check(pod.get("automountServiceAccountToken") is False, f"{label}: no service account token mounted")

    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    env = env_of(c)
    check(env.get("SAUVE_LISTEN", {}).get("value") == f"0.0.0.0:{ports.get('http')}",
          f"{label}: SAUVE_LISTEN is 0.0.0.0 on the http port")
    check(env.get("SAUVE_DATA_DIR", {}).get("value", "").startswith("/var/lib/sauve/"),
          f"{label}: SAUVE_DATA_DIR is under the data volume")
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    check(mounts.get("/var/lib/sauve") == "data" and "data" in vols, f"{label}: the data volume is mounted")
    check(mounts.get("/tmp") in vols and "emptyDir" in vols[mounts["/tmp"]],
          f"{label}: /tmp is a writable emptyDir")
    return pod, c, env, vols


def probes(c):
    return {k: (c[k]["httpGet"]["path"], c[k]["httpGet"]["port"])
            for k in ("startupProbe", "livenessProbe", "readinessProbe") if k in c}


def check_service(svc, dep, label):
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    sel = svc["spec"]["selector"]
    check(all(pod_labels.get(k) == v for k, v in sel.items()) and sel == dep["spec"]["selector"]["matchLabels"],
          f"{label}: the Service and the Deployment select the pods")
    check([p["targetPort"] for p in svc["spec"]["ports"]] == ["http"],
          f"{label}: the Service targets the http port")


# ---------------------------------------------------------------------------
# The cases.
# ---------------------------------------------------------------------------

POSTGRES = {
    "replicaCount": 3,
    "store": {"type": "postgres"},
    "existingSecret": "sauve-credentials",
    "persistence": {"enabled": False},
    "serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}},
    "podDisruptionBudget": {"enabled": True},
    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "1Gi"}},
    "topologySpreadConstraints": [{
        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "sauve"}}}],
}

EVERYTHING = {
    "store": {"type": "postgres"},
    "existingSecret": "sauve-credentials",
    "replicaCount": 2,
    "persistence": {"enabled": True, "accessModes": ["ReadWriteMany"], "storageClass": "-",
                    "size": "10Gi", "annotations": {"example.com/backup": "false"}},
    "image": {"repository": "registry.example.com/sauve", "tag": "0.1.0-test"},
    "imagePullSecrets": [{"name": "registry"}],
    "config": {
        "basePath": "/backup/",
        "publicUrl": "https://apps.example.com/backup",
        "secureCookies": True,
        "trustedProxies": ["10.0.0.0/8", "192.168.0.0/16"],
        "notify": ["webhook+https://hooks.example.com/sauve", "ntfy+https://ntfy.sh/backups"],
        "allowPaths": ["/var/backups/sauve"],
        "keepRuns": "30d",
        "logFormat": "text",
        "workers": 4,
        "file": "watchdog_secs = 30\nmax_connections = 1000\n",
    },
    "extraEnv": [{"name": "APP_BACKUP_PASSPHRASE",
                  "valueFrom": {"secretKeyRef": {"name": "app-backup", "key": "passphrase"}}}],
    "extraVolumes": [{"name": "backups", "persistentVolumeClaim": {"claimName": "sauve-backups"}}],
    "extraVolumeMounts": [{"name": "backups", "mountPath": "/var/backups/sauve"}],
    "service": {"type": "ClusterIP", "port": 8080, "annotations": {"example.com/x": "y"}},
    "serviceAccount": {"create": True, "name": "sauve-sa", "annotations": {"example.com/role": "backup"}},
    "podAnnotations": {"example.com/scrape": "false"},
    "podLabels": {"team": "platform"},
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "backup", "effect": "NoSchedule"}],
    "priorityClassName": "backup-critical",
    "serviceMonitor": {"enabled": True},
    "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
    "fullnameOverride": "backups",
}


def main():
    global GO_ENGINE
    started = time.monotonic()
    kv = load_validator()
    GO_ENGINE = build_go_engine()
    print(f"renderer: tests/deploy/helm/render.py"
          f"{', compared with Go text/template + Sprig (gotpl)' if GO_ENGINE else ''}"
          f"{', compared with helm template (' + HELM + ')' if HELM else ''}; "
          f"kubernetes-validate {KUBERNETES_VALIDATE_VERSION}, Kubernetes {', '.join(KUBE_VERSIONS)}")
    rendered_templates = set()

    def track(docs):
        for d in docs:
            rendered_templates.add(d["kind"])
        return docs

    # -- the chart's own files ------------------------------------------------
    section("Chart.yaml, values.yaml")
    with open(os.path.join(CHART, "Chart.yaml")) as f:
        meta = yaml.safe_load(f)
    check(meta.get("apiVersion") == "v2" and meta.get("name") == "sauve"
          and re.fullmatch(r"\d+\.\d+\.\d+", str(meta.get("version"))),
          "Chart.yaml: apiVersion v2, name sauve, a SemVer version")
    check(meta.get("kubeVersion") == f">={KUBE_VERSIONS[0]}-0",
          f"Chart.yaml: kubeVersion is >={KUBE_VERSIONS[0]}, the oldest version the manifests are validated for")
    with open(os.path.join(ROOT, "Cargo.toml")) as f:
        cargo_version = re.search(r'(?m)^version = "([^"]+)"', f.read()).group(1)
    check(meta.get("appVersion") == cargo_version,
          f"Chart.yaml: appVersion {meta.get('appVersion')} is Cargo.toml's version {cargo_version} (the image tag)")
    with open(os.path.join(CHART, "values.yaml")) as f:
        values = yaml.safe_load(f)
    used = set()
    for fn in os.listdir(os.path.join(CHART, "templates")):
        with open(os.path.join(CHART, "templates", fn)) as f:
            used |= set(re.findall(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", f.read()))
    missing = []
    for ref in sorted(used):
        node = values
        for part in ref.split(".")[1:]:
            if not isinstance(node, dict) or part not in node:
                missing.append(ref)
                break
            node = node[part]
    check(not missing, f"every .Values key the templates read is in values.yaml ({len(used)} keys; missing: {missing})")

    # -- 1. defaults: SQLite, one replica ------------------------------------------
    section("defaults: SQLite, one replica, a PersistentVolumeClaim")
    docs, notes = render_case({})
    track(docs)
    label = "defaults"
    for d in docs:
        validate(kv, d, label)
    kinds = by_kind(docs)
    check(set(kinds) == {"Deployment", "Service", "PersistentVolumeClaim", "ServiceAccount"},
          f"{label}: renders a Deployment, a Service, a PVC and a ServiceAccount ({sorted(kinds)})")
    dep = one(kinds, "Deployment", label)
    svc = one(kinds, "Service", label)
    pvc = one(kinds, "PersistentVolumeClaim", label)
    check(dep["spec"]["replicas"] == 1, f"{label}: replicas 1")
    check(dep["spec"]["strategy"] == {"type": "Recreate"},
          f"{label}: strategy Recreate (never two pods on one SQLite file)")
    pod, c, env, vols = check_pod(dep, label)
    check(probes(c) == {"startupProbe": ("/healthz", "http"), "livenessProbe": ("/healthz", "http"),
                        "readinessProbe": ("/readyz", "http")},
          f"{label}: startup and liveness probe /healthz, readiness /readyz, on the http port")
    check(vols["data"].get("persistentVolumeClaim", {}).get("claimName") == pvc["metadata"]["name"],
          f"{label}: the data volume is the chart's PVC")
    check(pvc["metadata"]["annotations"].get("helm.sh/resource-policy") == "keep",
          f"{label}: the PVC survives helm uninstall")
    check("SAUVE_DATABASE_URL" not in env, f"{label}: no SAUVE_DATABASE_URL (SQLite in the data directory)")
    check(not any("valueFrom" in e for e in env.values()), f"{label}: no Secret read without existingSecret")
    check_service(svc, dep, label)
    check_no_inline_secrets(docs, label)
    check(notes and "sauve user add" in notes and "port-forward" in notes,
          f"{label}: NOTES.txt says how to create the first user and reach the dashboard")

    # -- 2. SQLite with a Secret ------------------------------------------------
    section("SQLite with existingSecret")
    docs, _ = render_case({"existingSecret": "sauve-credentials"})
    label = "sqlite+secret"
    for d in docs:
        validate(kv, d, label)
    dep = one(by_kind(docs), "Deployment", label)
    env = env_of(dep["spec"]["template"]["spec"]["containers"][0])
    check("SAUVE_DATABASE_URL" not in env, f"{label}: no SAUVE_DATABASE_URL")
    for name, key in (("SAUVE_MASTER_KEY", "master-key"), ("SAUVE_CRON_SECRET", "cron-secret")):
        check(env.get(name, {}).get("valueFrom", {}).get("secretKeyRef")
              == {"name": "sauve-credentials", "key": key, "optional": True},
              f"{label}: {name} from Secret sauve-credentials key {key}, optional")
    check_no_inline_secrets(docs, label)

    # -- 3. PostgreSQL, 3 replicas, ServiceMonitor, PDB -------------------------
    section("PostgreSQL: 3 replicas, existingSecret, ServiceMonitor, PodDisruptionBudget")
    docs, notes = render_case(POSTGRES)
    track(docs)
    label = "postgres"
    kinds = by_kind(docs)
    for d in docs:
        if d["kind"] == "ServiceMonitor":
            check(True, f"{label}: ServiceMonitor is a CRD kubernetes-validate has no schema for: checked by shape below")
            continue
        validate(kv, d, label)
    check(set(kinds) == {"Deployment", "Service", "ServiceAccount", "ServiceMonitor", "PodDisruptionBudget"},
          f"{label}: renders Deployment, Service, ServiceAccount, ServiceMonitor, PDB and no PVC ({sorted(kinds)})")
    dep = one(kinds, "Deployment", label)
    svc = one(kinds, "Service", label)
    check(dep["spec"]["replicas"] == 3, f"{label}: replicas 3")
    check(dep["spec"]["strategy"]["type"] == "RollingUpdate"
          and dep["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0},
          f"{label}: strategy RollingUpdate (maxSurge 1, maxUnavailable 0)")
    pod, c, env, vols = check_pod(dep, label)
    check(probes(c)["readinessProbe"] == ("/readyz", "http") and probes(c)["livenessProbe"] == ("/healthz", "http"),
          f"{label}: probes /healthz and /readyz")
    check(vols["data"] == {"name": "data", "emptyDir": {}}, f"{label}: the data directory is an emptyDir (staging only)")
    for name, key, optional in (("SAUVE_DATABASE_URL", "database-url", False),
                                ("SAUVE_MASTER_KEY", "master-key", False),
                                ("SAUVE_CRON_SECRET", "cron-secret", True)):
        want = {"name": "sauve-credentials", "key": key}
        if optional:
            want["optional"] = True
        check(env.get(name, {}).get("valueFrom", {}).get("secretKeyRef") == want,
              f"{label}: {name} from Secret sauve-credentials key {key}{', optional' if optional else ', required'}")
    check_service(svc, dep, label)
    pdb = one(kinds, "PodDisruptionBudget", label)
    check(pdb["apiVersion"] == "policy/v1" and pdb["spec"].get("maxUnavailable") == 1
          and pdb["spec"]["selector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"],
          f"{label}: PDB policy/v1, maxUnavailable 1, selecting the pods")
    sm = one(kinds, "ServiceMonitor", label)
    check(sm["metadata"]["labels"].get("release") == "prometheus", f"{label}: ServiceMonitor carries serviceMonitor.labels")
    check_service_monitor(sm, svc, "sauve-credentials", label)
    check_no_inline_secrets(docs, label)
    check("3 replica(s) on PostgreSQL" in notes, f"{label}: NOTES.txt names the store")

    # -- 4. every option at once -------------------------------------------------
    section("every option: base path, sauve.toml, extra volumes, overrides")
    docs, _ = render_case(EVERYTHING)
    track(docs)
    label = "everything"
    kinds = by_kind(docs)
    for d in docs:
        if d["kind"] != "ServiceMonitor":
            validate(kv, d, label)
    dep = one(kinds, "Deployment", label)
    pod, c, env, vols = check_pod(dep, label)
    check(dep["metadata"]["name"] == "backups", f"{label}: fullnameOverride names the resources")
    check(c["image"] == "registry.example.com/sauve:0.1.0-test", f"{label}: image repository and tag")
    check(probes(c) == {"startupProbe": ("/healthz", "http"), "livenessProbe": ("/healthz", "http"),
                        "readinessProbe": ("/readyz", "http")},
          f"{label}: the probes stay at the root under config.basePath (Sauve answers them there)")
    want_env = {"SAUVE_BASE_PATH": "/backup", "SAUVE_TRUSTED_PROXIES": "10.0.0.0/8,192.168.0.0/16",
                "SAUVE_NOTIFY": "webhook+https://hooks.example.com/sauve ntfy+https://ntfy.sh/backups",
                "SAUVE_ALLOW_PATHS": "/var/backups/sauve", "SAUVE_WORKERS": "4", "SAUVE_SECURE_COOKIES": "true",
                "SAUVE_PUBLIC_URL": "https://apps.example.com/backup", "SAUVE_CONFIG": "/etc/sauve/sauve.toml",
                "SAUVE_KEEP_RUNS": "30d", "SAUVE_LOG_FORMAT": "text"}
    got = {k: env.get(k, {}).get("value") for k in want_env}
    check(got == want_env, f"{label}: config.* become SAUVE_* variables ({got})")
    check("APP_BACKUP_PASSPHRASE" in env, f"{label}: extraEnv is passed")
    cm = one(kinds, "ConfigMap", label)
    check(cm and cm["data"]["sauve.toml"] == EVERYTHING["config"]["file"], f"{label}: the ConfigMap holds sauve.toml as given")
    check("checksum/config" in dep["spec"]["template"]["metadata"]["annotations"],
          f"{label}: a changed sauve.toml restarts the pods (checksum annotation)")
    check(vols["config"]["configMap"]["name"] == cm["metadata"]["name"] and "backups" in vols,
          f"{label}: the config and extra volumes are mounted")
    pvc = one(kinds, "PersistentVolumeClaim", label)
    check(pvc["spec"]["storageClassName"] == "" and pvc["spec"]["accessModes"] == ["ReadWriteMany"],
          f"{label}: storageClass \"-\" gives storageClassName \"\"; accessModes as given")
    sa = one(kinds, "ServiceAccount", label)
    check(sa["metadata"]["name"] == "sauve-sa" and pod["serviceAccountName"] == "sauve-sa",
          f"{label}: serviceAccount.name is used")
    check(one(kinds, "PodDisruptionBudget", label)["spec"] == {
        "minAvailable": 1, "selector": dep["spec"]["selector"]},
        f"{label}: PDB minAvailable replaces maxUnavailable")
    sm = one(kinds, "ServiceMonitor", label)
    check(sm["spec"]["endpoints"][0]["path"] == "/backup/metrics", f"{label}: the ServiceMonitor follows config.basePath")
    check_no_inline_secrets(docs, label)

    # Existing claim: no PVC rendered, the Deployment mounts the claim named.
    docs, _ = render_case({"persistence": {"existingClaim": "sauve-data-old"}})
    kinds = by_kind(docs)
    dep = one(kinds, "Deployment", "existingClaim")
    check("PersistentVolumeClaim" not in kinds and
          {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}["data"]["persistentVolumeClaim"]
          == {"claimName": "sauve-data-old"},
          "existingClaim: no PVC rendered; the Deployment mounts the claim named")

    # -- 5. the refusals ----------------------------------------------------------
    section("refusals")
    cases = [
        ("SQLite with replicaCount 2", {"replicaCount": 2},
         ["replicaCount is 2 but the metadata store is SQLite", "store.type=postgres", "existingSecret",
          "set replicaCount=1"]),
        ("SQLite with replicaCount 2 and a Secret", {"replicaCount": 2, "existingSecret": "s"},
         ["replicaCount is 2 but the metadata store is SQLite"]),
        ("PostgreSQL without existingSecret", {"store": {"type": "postgres"}, "persistence": {"enabled": False}},
         ["store.type=postgres reads the database URL from a Secret", "existingSecret"]),
        ("PostgreSQL, 3 replicas, ReadWriteOnce data volume",
         {"store": {"type": "postgres"}, "existingSecret": "s", "replicaCount": 3},
         ["ReadWriteOnce", "persistence.enabled=false"]),
        ("SQLite without persistence", {"persistence": {"enabled": False}},
         ["persistence.enabled=true"]),
        ("an unknown store", {"store": {"type": "mysql"}}, ['not "mysql"']),
        ("ServiceMonitor without a token Secret", {"serviceMonitor": {"enabled": True}},
         ["metrics:read", "existingSecret"]),
    ]
    for name, vals, wants in cases:
        msg = refusal(vals)
        check(msg is not None and all(w in msg for w in wants),
              f"refused: {name} ({msg!r})")
    check(refusal({"replicaCount": 1, "store": {"type": "sqlite"}}) is None, "not refused: SQLite with replicaCount 1")

    # -- 6. coverage of the templates -------------------------------------------
    section("every template rendered")
    want_kinds = {"Deployment", "Service", "PersistentVolumeClaim", "ServiceAccount", "ConfigMap",
                  "ServiceMonitor", "PodDisruptionBudget"}
    check(rendered_templates >= want_kinds, f"every kind the chart can render was rendered ({sorted(rendered_templates)})")

    # -- 7. the renderer refuses what it does not know ------------------------------
    section("the renderer's subset")
    for src, want in (
        ('{{ tpl "x" . }}', render.Unsupported),
        ('{{ lookup "v1" "Secret" "" "" }}', render.Unsupported),
        ('{{ template "x" . }}', render.Unsupported),
        ("{{ .Values.n | gt 1 }}", render.TemplateError),   # float64 vs int, as in Go
        ("{{ .Values.missing.key }}", render.TemplateError),  # nil pointer evaluating interface {}.key
        ("{{ .Values.list }}", render.TemplateError),       # would print Go's [a b]
    ):
        try:
            defines = {}
            nodes = render.parse(src, "probe", defines)
            top = render.Struct("top", Values={"n": 2.0, "list": ["a"]})
            render.Executor(defines).run(nodes, top, [("$", top)])
            got = None
        except render.TemplateError as e:
            got = e
        check(isinstance(got, want), f"renderer refuses {src} ({type(got).__name__ if got else 'rendered'})")
    check(render.go_float_str(1e6) == "1e+06" and render.go_float_str(123456.0) == "123456"
          and render.go_float_str(0.5) == "0.5", "renderer prints float64 as Go's %v does")

    # -- 8. deploy/examples -------------------------------------------------------
    section("deploy/examples")
    with open(os.path.join(EXAMPLES, "kubernetes-cronjob.yaml")) as f:
        text = f.read()
    cron_docs = parse_docs(text, "kubernetes-cronjob.yaml")
    check(len(cron_docs) == 1 and cron_docs[0]["kind"] == "CronJob", "kubernetes-cronjob.yaml holds one CronJob")
    for d in cron_docs:
        validate(kv, d, "examples")
        pod = d["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        script = " ".join(c.get("command", []) + c.get("args", []))
        check("/api/cron/backup" in script and "Authorization: Bearer" in script and "-X POST" in script,
              "the CronJob POSTs /api/cron/backup with Authorization: Bearer")
        check(env_of(c)["CRON_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "sauve", "key": "cron-secret"},
              "the CronJob reads the secret from the chart's Secret key cron-secret")
        check("$CRON_SECRET" not in script.split("| curl", 1)[-1],
              "the secret reaches curl on stdin, not on its command line")
        check(d["spec"]["concurrencyPolicy"] == "Forbid", "the CronJob never overlaps itself")
        csc = c.get("securityContext", {})
        check(pod["securityContext"].get("runAsNonRoot") is True and csc.get("readOnlyRootFilesystem") is True
              and csc.get("capabilities") == {"drop": ["ALL"]}, "the CronJob's pod runs non-root, read-only, no capabilities")
    with open(os.path.join(EXAMPLES, "vercel.json")) as f:
        try:
            vercel = json.load(f)
        except json.JSONDecodeError as e:
            vercel = {}
            check(False, f"vercel.json is JSON ({e})")
    crons = vercel.get("crons", [])
    check(any(c.get("path") == "/api/cron/backup" for c in crons), "vercel.json: a crons entry with path /api/cron/backup")
    check(all(isinstance(c.get("schedule"), str) and len(c["schedule"].split()) == 5 for c in crons) and crons,
          "vercel.json: every schedule is a 5-field cron expression")
    check(any(r.get("source") == "/api/cron/backup" and r.get("destination", "").startswith("https://")
              and r["destination"].endswith("/api/cron/backup") for r in vercel.get("rewrites", [])),
          "vercel.json: /api/cron/backup is rewritten to Sauve over HTTPS")

    # -- 9. the binary knows every variable the chart sets --------------------------
    section("SAUVE_* variables against `sauve serve --help`")
    binary = os.environ.get("SAUVE_BIN")
    chart_env = set()
    for case in ({}, POSTGRES, EVERYTHING, {"existingSecret": "s"}):
        out, _ = render.render_chart(CHART, [case], release=RELEASE, namespace=NAMESPACE)
        for path, text in out.items():
            for d in parse_docs(text, path):
                for c in d.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
                    chart_env |= {e["name"] for e in c.get("env", []) if e["name"].startswith("SAUVE_")}
    src_names = set()
    for dirpath, _, files in os.walk(os.path.join(ROOT, "src")):
        for fn in files:
            if fn.endswith(".rs"):
                with open(os.path.join(dirpath, fn)) as f:
                    src_names |= set(re.findall(r'"(SAUVE_[A-Z0-9_]+)"', f.read()))
    unknown = sorted(chart_env - src_names)
    check(not unknown, f"every SAUVE_* variable the chart sets is named in src/ ({sorted(chart_env)}; unknown: {unknown})")
    if binary and os.access(binary, os.X_OK):
        p = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=60)
        known = set(re.findall(r"env: (SAUVE_[A-Z_]+)", p.stdout))
        # Read by Sauve itself, not by the command line (src/secrets: the vault).
        known.add("SAUVE_MASTER_KEY")
        unknown = sorted(chart_env - known)
        check(p.returncode == 0 and not unknown,
              f"`{binary} serve --help` knows every SAUVE_* variable the chart sets ({len(chart_env)}; unknown: {unknown})")
        # The ConfigMap's sauve.toml goes through the binary's own --config parser
        # (serve's keys are checked whatever the command).
        with tempfile.TemporaryDirectory() as tmp:
            toml_path = os.path.join(tmp, "sauve.toml")
            with open(toml_path, "w") as f:
                f.write(EVERYTHING["config"]["file"])
            env = {k: v for k, v in os.environ.items() if not k.startswith("SAUVE_")}
            p = subprocess.run([binary, "--config", toml_path, "--data-dir", os.path.join(tmp, "data"), "job", "list"],
                               capture_output=True, text=True, timeout=60, env=env)
            check(p.returncode == 0, f"`sauve --config` accepts the chart's sauve.toml case ({p.stderr.strip()[:200]})")
    else:
        print("  skipped: SAUVE_BIN is not a built binary (scripts/test sets it after the build)")

    print(f"\n{len(checked)} checks passed, {len(failures)} failed, in {time.monotonic() - started:.1f} s")
    if failures:
        print("FAILED:")
        for f in failures:
            print(f"  - {f}")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except render.TemplateError as e:
        # A template error, or a construct outside the renderer's subset.
        print(f"\nFAILED: the chart does not render: {e}")
        sys.exit(1)
