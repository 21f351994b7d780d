#!/usr/bin/env bash
# packaging/Dockerfile and packaging/kubernetes/: no container engine or
# cluster here, so these are checked by reading them.
#   - every YAML file parses: `svcdns --check` on a copy of them reports
#     syntax errors as errors (other kinds are only warnings), and PyYAML
#     (Debian's python3-yaml) loads every document when it is there;
#   - the manifests the ConfigMap carries pass `svcdns --check` cleanly;
#   - the objects say what the operations issue asks (replicas, probes,
#     resources, securityContext, PDB, anti-affinity, Service ports, the
#     ConfigMap volume) and agree with each other and with the Dockerfile
#     (ports, user, mount path);
#   - the Dockerfile: two Debian 12 stages, a numeric non-root user, the
#     runtime packages are exactly the libraries the binary links, the
#     entrypoint's and the Deployment's options are ones svcdns accepts;
#   - the CoreDNS snippet forwards cluster.local to the Service's IP.
. "$(dirname "$0")/lib.sh"
pk_need_binary
pk_tmpdir
k8s=$PK_ROOT/packaging/kubernetes
docker=$PK_ROOT/packaging/Dockerfile
[ -d "$k8s" ] && [ -f "$docker" ] || { pk_fail "no packaging/kubernetes or packaging/Dockerfile"; pk_done; }

# ---- YAML syntax through svcdns ----------------------------------------
mkdir -p "$PK_TMP/all"
cp "$k8s"/*.yaml "$PK_TMP/all/"
"$PK_BUILD/svcdns" --check --zones "$PK_TMP/all" >"$PK_TMP/check.txt" 2>&1
rc=$?
sed 's/^/svcdns --check: /' "$PK_TMP/check.txt"
if [ $rc = 0 ] && ! grep -q ': error: ' "$PK_TMP/check.txt"; then
	pk_ok "svcdns --check finds no syntax error in packaging/kubernetes/*.yaml"
else
	pk_fail "svcdns --check reports errors in packaging/kubernetes/*.yaml"
fi

# ---- the ConfigMap's manifests ------------------------------------------
# Its data keys, as the kubelet would write them: block scalars under data:.
mkdir -p "$PK_TMP/cm"
awk -v dir="$PK_TMP/cm" '
	/^data:/ { in_data = 1; next }
	/^[^ #]/ { in_data = 0; out = "" }
	in_data && /^  [A-Za-z0-9._-]+: [|]/ {
		k = $1; sub(/:$/, "", k); out = dir "/" k; printf "" > out; next }
	in_data && out != "" && /^    / { print substr($0, 5) > out; next }
	in_data && out != "" && /^ *$/ { print "" > out }' "$k8s/configmap.yaml"
n=$(find "$PK_TMP/cm" -type f | wc -l)
"$PK_BUILD/svcdns" --check --zones "$PK_TMP/cm" >"$PK_TMP/cm.txt" 2>&1
rc=$?
cat "$PK_TMP/cm.txt"
if [ "$n" -gt 0 ] && [ $rc = 0 ] && grep -q 'errors=0 warnings=0' "$PK_TMP/cm.txt"; then
	pk_ok "the ConfigMap's $n manifest file(s) pass svcdns --check without a warning"
else
	pk_fail "the ConfigMap's manifests ($n file(s)) do not pass svcdns --check cleanly"
fi

# ---- the Dockerfile -----------------------------------------------------
froms=$(grep -ciE '^FROM ' "$docker")
pk_check "the Dockerfile has two stages (got $froms)" [ "$froms" = 2 ]
bad_base=$(grep -iE '^FROM ' "$docker" | awk '{ print $2 }' | grep -vE '^debian:12(-slim)?$' || true)
pk_check "both stages are Debian 12${bad_base:+ (not: $bad_base)}" [ -z "$bad_base" ]
pk_check "the first stage is named build" grep -qiE '^FROM debian:12 +AS +build$' "$docker"
user=$(awk 'toupper($1) == "FROM" { u = "" } toupper($1) == "USER" { u = $2 } END { print u }' "$docker")
uid=${user%%:*}
pk_check "the runtime stage runs as a numeric non-root user ($user)" \
	eval '[[ $uid =~ ^[0-9]+$ ]] && [ "$uid" != 0 ]'
# Each line continuation joined, the runtime stage's packages.
runtime_pkgs=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$docker" |
	awk 'toupper($1) == "FROM" { n++ } n == 2 && /apt-get install/' |
	sed 's/.*--no-install-recommends//; s/&&.*//' | tr ' ' '\n' | grep -v '^$' | sort)
linked_pkgs=$(ldd "$PK_BUILD/svcdns" | awk '/=> \// { print $3 }' |
	grep -E 'libuv|libcares|libyaml' | while read -r lib; do
		dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null
	done | cut -d: -f1 | sort -u)
# libcurl is dlopen()ed by --kubernetes (src/kube.c): not in ldd, needed.
if grep -q 'libcurl\.so\.4' "$PK_BUILD/svcdns"; then
	linked_pkgs=$(printf '%s\nlibcurl4\n' "$linked_pkgs" | grep -v '^$' | sort -u)
fi
same=no
[ -n "$linked_pkgs" ] && [ "$runtime_pkgs" = "$linked_pkgs" ] && same=yes
pk_check "the runtime stage installs the linked libraries' packages ($(echo $linked_pkgs)) and no more ($(echo $runtime_pkgs))" \
	[ $same = yes ]
for src in $(awk 'toupper($1) == "COPY" && $2 ~ /^--from=build/ { print $3 }' "$docker"); do
	p=${src#/src/}
	if [ "$p" = build/svcdns ]; then
		# What `make all` links.
		make -C "$PK_ROOT" -n -B build/svcdns 2>/dev/null | grep -q -- '-o build/svcdns ' ||
			pk_fail "make all does not build build/svcdns"
	elif [ ! -e "$PK_ROOT/$p" ]; then
		pk_fail "the Dockerfile copies $src, which the tree lacks"
	fi
done
pk_ok "every file the runtime stage copies exists"
ignored=$(grep -vE '^(#|$)' "$PK_ROOT/packaging/Dockerfile.dockerignore" 2>/dev/null | tr '\n' ' ')
pk_check "Dockerfile.dockerignore keeps build/ and .git out (${ignored})" \
	eval '[[ " $ignored " == *" build "* && " $ignored " == *" .git "* ]]'
entry=$(sed -n 's/^ENTRYPOINT \(\[.*\]\)$/\1/p' "$docker")
expose=$(awk 'toupper($1) == "EXPOSE" { $1 = ""; print }' "$docker" | xargs)

# ---- the Kubernetes objects, with PyYAML --------------------------------
py=/usr/bin/python3
if ! "$py" -c 'import yaml' 2>/dev/null; then
	pk_need_pkgs python3-yaml || true
fi
if ! "$py" -c 'import yaml' 2>/dev/null; then
	echo "note: no python3-yaml: the structural checks are skipped"
	pk_done
fi
ENTRY=$entry EXPOSE=$expose SVCDNS=$PK_BUILD/svcdns K8S=$k8s \
	"$py" - "$PK_TMP" <<'EOF' >"$PK_TMP/py.txt" 2>&1
import glob, json, os, re, subprocess, sys, yaml

fails = 0
def check(label, ok):
    global fails
    print(("ok: " if ok else "FAIL: ") + label)
    if not ok:
        fails += 1

k8s = os.environ["K8S"]
objs = {}
for path in sorted(glob.glob(os.path.join(k8s, "*.yaml"))):
    try:
        docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
    except yaml.YAMLError as e:
        check("%s parses: %s" % (os.path.basename(path), e), False)
        continue
    check("%s parses (%d document(s))" % (os.path.basename(path), len(docs)), True)
    for d in docs:
        objs[d.get("kind")] = d

def get(obj, *path, default=None):
    for p in path:
        if isinstance(obj, dict) and p in obj:
            obj = obj[p]
        elif isinstance(obj, list) and isinstance(p, int) and p < len(obj):
            obj = obj[p]
        else:
            return default
    return obj

dep, svc, pdb, cm = (objs.get(k) for k in ("Deployment", "Service",
                                           "PodDisruptionBudget", "ConfigMap"))
check("Deployment, Service, PodDisruptionBudget and ConfigMap exist",
      None not in (dep, svc, pdb, cm))
if None in (dep, svc, pdb, cm):
    sys.exit(1)
kust = objs.get("Kustomization")
if kust:
    listed = set(kust.get("resources", []))
    files = set(os.path.basename(p) for p in glob.glob(os.path.join(k8s, "*.yaml"))) - {"kustomization.yaml"}
    check("kustomization.yaml lists every manifest", listed == files)

ns = {o["metadata"].get("namespace") for o in (dep, svc, pdb, cm)}
check("one namespace for all: %s" % ns, len(ns) == 1)
spec = dep["spec"]
pod = spec["template"]["spec"]
labels = spec["template"]["metadata"]["labels"]
def selects(sel):
    return sel and all(labels.get(k) == v for k, v in sel.items())
check("replicas: 2", spec.get("replicas") == 2)
check("the Deployment's selector matches its pods", selects(spec["selector"]["matchLabels"]))
check("the Service selects the pods", selects(svc["spec"]["selector"]))
check("the PDB selects the pods", selects(pdb["spec"]["selector"]["matchLabels"]))
check("PDB minAvailable: 1", pdb["spec"].get("minAvailable") == 1)
terms = (get(pod, "affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", default=[]) +
         get(pod, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution", default=[]))
check("podAntiAffinity by kubernetes.io/hostname on the pods' labels",
      any(get(t, "podAffinityTerm", "topologyKey", default=t.get("topologyKey")) == "kubernetes.io/hostname" and
          selects(get(t, "podAffinityTerm", "labelSelector", "matchLabels",
                      default=get(t, "labelSelector", "matchLabels")))
          for t in terms))
check("pod securityContext runAsNonRoot", get(pod, "securityContext", "runAsNonRoot") is True)
c = pod["containers"][0]
sc = c.get("securityContext", {})
check("readOnlyRootFilesystem", sc.get("readOnlyRootFilesystem") is True)
check("allowPrivilegeEscalation: false", sc.get("allowPrivilegeEscalation") is False)
check("capabilities drop ALL, add none",
      get(sc, "capabilities", "drop") == ["ALL"] and not get(sc, "capabilities", "add"))
res = c.get("resources", {})
check("requests memory 32Mi, cpu 100m; limit memory 128Mi",
      get(res, "requests", "memory") == "32Mi" and get(res, "requests", "cpu") == "100m" and
      get(res, "limits", "memory") == "128Mi")
ports = {p["name"]: p for p in c.get("ports", [])}
for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
    port = get(c, probe, "httpGet", "port")
    check("%s: GET %s on a TCP container port (%s, %s)"
          % (probe, path, port, get(c, probe, "httpGet", "path")),
          port in ports and ports[port]["protocol"] == "TCP" and
          get(c, probe, "httpGet", "path") == path)
args_ = c.get("args", [])
http = args_[args_.index("--http") + 1] if "--http" in args_ else ""
check("--http listens on the probes' port (%s)" % http,
      any(http.endswith(":%d" % p["containerPort"]) for p in ports.values()
          if p["name"] == get(c, "readinessProbe", "httpGet", "port")))
# The api/ overlay: --kubernetes with the ServiceAccount of rbac.yaml.
sa, role, bind = (objs.get(k) for k in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding"))
check("rbac.yaml: ServiceAccount, ClusterRole and ClusterRoleBinding", None not in (sa, role, bind))
if None not in (sa, role, bind):
    rules = {(g, r): sorted(rule["verbs"]) for rule in role["rules"]
             for g in rule["apiGroups"] for r in rule["resources"]}
    want = {("", "namespaces"), ("", "services"), ("", "pods"),
            ("discovery.k8s.io", "endpointslices")}
    check("the ClusterRole grants list and watch on exactly %s" % sorted(want),
          set(rules) == want and all(v == ["list", "watch"] for v in rules.values()))
    check("the binding gives that role to the ServiceAccount",
          bind["roleRef"]["name"] == role["metadata"]["name"] and
          any(s["name"] == sa["metadata"]["name"] and
              s.get("namespace") == sa["metadata"]["namespace"] for s in bind["subjects"]))
    api = os.path.join(k8s, "api")
    kapi = yaml.safe_load(open(os.path.join(api, "kustomization.yaml")))
    patch = yaml.safe_load(open(os.path.join(api, kapi["patches"][0]["path"])))
    ops = {(o["op"], o["path"]): o.get("value") for o in patch}
    check("api/ patches the Deployment to the ServiceAccount with its token and --kubernetes",
          kapi["resources"] == [".."] and
          ops.get(("add", "/spec/template/spec/serviceAccountName")) == sa["metadata"]["name"] and
          ops.get(("replace", "/spec/template/spec/automountServiceAccountToken")) is True and
          ops.get(("add", "/spec/template/spec/containers/0/args/-")) == "--kubernetes")
# Service port 53 over UDP and TCP, to the container port of that protocol.
sp = {(p["protocol"], p["port"]): p for p in svc["spec"]["ports"]}
for proto in ("UDP", "TCP"):
    p = sp.get((proto, 53))
    tp = p and p.get("targetPort")
    target = ports.get(tp) if isinstance(tp, str) else next(
        (q for q in ports.values() if q["containerPort"] == tp), None)
    check("Service port 53/%s targets container port 5353/%s" % (proto, proto),
          bool(target) and target["containerPort"] == 5353 and target["protocol"] == proto)
# The ConfigMap volume at the zones directory.
vols = {v["name"]: v for v in pod.get("volumes", [])}
mounts = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/etc/svcdns/zones"]
check("the ConfigMap %s is mounted read-only at /etc/svcdns/zones" % cm["metadata"]["name"],
      len(mounts) == 1 and mounts[0].get("readOnly") is True and
      get(vols, mounts[0]["name"], "configMap", "name") == cm["metadata"]["name"])
check("the ConfigMap's keys end in .yaml, .yml or .json",
      all(re.search(r"\.(ya?ml|json)$", k) for k in cm.get("data", {})))

# The image: its user, its ports, its entrypoint; the Deployment's args.
entry = json.loads(os.environ["ENTRY"])
listen = entry[entry.index("--listen") + 1] if "--listen" in entry else ""
check("the entrypoint listens on port 5353 (%s)" % listen, listen.endswith(":5353"))
check("EXPOSE 5353/udp 5353/tcp (%s)" % os.environ["EXPOSE"],
      sorted(os.environ["EXPOSE"].split()) == ["5353/tcp", "5353/udp"])
check("the entrypoint reads /etc/svcdns/zones",
      "--zones" in entry and entry[entry.index("--zones") + 1] == "/etc/svcdns/zones")
args = [os.environ["SVCDNS"]] + entry[1:] + c.get("args", []) + ["--check"]
r = subprocess.run(args, capture_output=True, text=True)
check("svcdns accepts the entrypoint + Deployment args %s (status %d, not 2)"
      % (" ".join(args[1:-1]), r.returncode), r.returncode != 2)
if fails:
    sys.exit(1)
EOF
rc=$?
cat "$PK_TMP/py.txt"
PK_FAILS=$((PK_FAILS + $(grep -c '^FAIL: ' "$PK_TMP/py.txt")))
[ $rc = 0 ] || [ "$(grep -c '^FAIL: ' "$PK_TMP/py.txt")" != 0 ] || pk_fail "the YAML checks failed to run"
runas=$(sed -n 's/^ *runAsUser: *\([0-9]*\)/\1/p' "$k8s/deployment.yaml" | head -1)
pk_check "the pod's runAsUser ($runas) is the image's USER ($uid)" [ "$runas" = "$uid" ]

# ---- the CoreDNS snippet ------------------------------------------------
snip=$k8s/coredns-corefile-snippet.txt
ip=$(sed -n 's/^  clusterIP: *\([0-9.]*\)$/\1/p' "$k8s/service.yaml")
pk_check "the snippet has a cluster.local:53 server block" \
	grep -qE '^cluster\.local:53( [a-z0-9.-]+:53)* \{$' "$snip"
pk_check "the snippet forwards to the Service's cluster IP ($ip)" \
	grep -qE "^ +forward \. $ip( \{)?$" "$snip"
open=$(grep -v '^ *#' "$snip" | tr -cd '{' | wc -c)
close=$(grep -v '^ *#' "$snip" | tr -cd '}' | wc -c)
pk_check "the snippet's braces balance ($open/$close)" [ "$open" = "$close" -a "$open" -gt 0 ]

# ---- the pod, as far as this machine can play it -------------------------
# The Deployment's command line, as uid 10053 with no capability at all, on
# a directory laid out like a ConfigMap volume (files are symlinks into a
# ..data directory): it must answer the ConfigMap's names, accept the TCP
# connection the probes make, and stay within the memory request.
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! command -v dig >/dev/null; then
	echo "note: not root, or no setpriv or dig: the pod run is skipped"
	pk_done
fi
vol=$PK_TMP/vol
mkdir -p "$vol/..2026_01_01_00_00_00.000000001"
cp "$PK_TMP"/cm/* "$vol/..2026_01_01_00_00_00.000000001/"
ln -s ..2026_01_01_00_00_00.000000001 "$vol/..data"
for f in "$PK_TMP"/cm/*; do ln -s "..data/$(basename "$f")" "$vol/$(basename "$f")"; done
chmod -R a+rX "$PK_TMP"
port=$((20000 + RANDOM % 12000)) # below the ephemeral range (tests/integration/lib.sh, it_pick_port)
mapfile -t dargs < <(sed -n '/^          args:/,/^          [a-z]/p' "$k8s/deployment.yaml" |
	sed -n 's/^            - "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p')
# Loopback only here: the pod's --http address becomes 127.0.0.1.
hport=$((port + 1))
for i in "${!dargs[@]}"; do
	[ "${dargs[$i]}" = --http ] && dargs[$((i + 1))]=127.0.0.1:$hport
done
log=$PK_TMP/pod.log
setpriv --reuid=10053 --regid=10053 --clear-groups --no-new-privs \
	--inh-caps=-all --bounding-set=-all \
	"$PK_BUILD/svcdns" --zones "$vol" --listen "127.0.0.1:$port" "${dargs[@]}" >"$log" 2>&1 &
dpid=$!
stop_pod() { kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; }
PK_CLEANUP_HOOK=stop_pod
for _ in $(seq 1 50); do
	grep -q 'main: ready' "$log" && break
	sleep 0.1
done
a=$(dig @127.0.0.1 -p "$port" +norec +tries=1 +time=2 +short frontend.shop.svc.cluster.local A)
pk_check "the pod's command line (${dargs[*]}) serves the ConfigMap's names without privileges ($a)" \
	[ "$a" = 10.96.0.10 ]
pk_check "the DNS port accepts TCP connections" \
	timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
code=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$hport/ready" 2>/dev/null)
pk_check "the readiness probe's GET /ready answers 200 ($code)" [ "$code" = 200 ]
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$dpid/status" 2>/dev/null)
echo "pod: VmRSS ${rss:-?} kB"
pk_check "resident memory ${rss:-?} kB is within the 32Mi request" [ "${rss:-999999}" -lt 32768 ]
stop_pod
PK_CLEANUP_HOOK=
sed 's/^/pod: /' "$log" | tail -3
pk_done
