package test

import (
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
)

// chartDir is the chart under test.
const chartDir = "../onbehalf"

// secretDir is where the chart mounts existingSecret's keys.
const secretDir = "/run/secrets/onbehalf"

// rendered is a chart rendered with one values file: its objects by kind.
type rendered struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	pdb        *policyv1.PodDisruptionBudget
	pvc        *corev1.PersistentVolumeClaim
	// other holds the objects of other kinds (a ServiceMonitor), as maps.
	other map[string]map[string]any
}

// loadChart loads the chart from its folder.
func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading the chart: %v", err)
	}
	return c
}

// readValues reads a values file of testdata.
func readValues(t *testing.T, name string) map[string]any {
	t.Helper()
	v, err := common.ReadValuesFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// render renders the chart with vals as `helm template` would, and
// returns its objects, each decoded strictly into its Kubernetes type (a
// misspelt or misplaced field is an error).
func render(t *testing.T, vals map[string]any) (*rendered, error) {
	t.Helper()
	c := loadChart(t)
	rv, err := util.ToRenderValues(c, vals, common.ReleaseOptions{Name: "ob", Namespace: "default", IsInstall: true}, nil)
	if err != nil {
		return nil, err
	}
	files, err := engine.Render(c, rv)
	if err != nil {
		return nil, err
	}
	r := &rendered{other: map[string]map[string]any{}}
	for name, body := range files {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, doc := range strings.Split(body, "\n---") {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var head struct{ Kind string }
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s: %v\n%s", name, err, doc)
			}
			var into any
			switch head.Kind {
			case "":
				continue // a template that rendered only comments
			case "Deployment":
				r.deployment = &appsv1.Deployment{}
				into = r.deployment
			case "Service":
				r.service = &corev1.Service{}
				into = r.service
			case "PodDisruptionBudget":
				r.pdb = &policyv1.PodDisruptionBudget{}
				into = r.pdb
			case "PersistentVolumeClaim":
				r.pvc = &corev1.PersistentVolumeClaim{}
				into = r.pvc
			default:
				m := map[string]any{}
				r.other[head.Kind] = m
				into = &m
			}
			if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
				t.Fatalf("%s: %s does not decode: %v\n%s", name, head.Kind, err, doc)
			}
		}
	}
	if r.deployment == nil || r.service == nil {
		t.Fatalf("no Deployment or no Service rendered: %v", files)
	}
	return r, nil
}

// mustRender renders a values file of testdata and fails on an error.
func mustRender(t *testing.T, values string) *rendered {
	t.Helper()
	r, err := render(t, readValues(t, values))
	if err != nil {
		t.Fatalf("rendering with %s: %v", values, err)
	}
	return r
}

// TestLint lints the chart with every values file of testdata, as
// `helm lint --strict -f` would: no warning, no error.
func TestLint(t *testing.T) {
	for _, values := range []string{"default.yaml", "postgres.yaml", "servicemonitor.yaml"} {
		t.Run(values, func(t *testing.T) {
			res := lint.RunAll(chartDir, readValues(t, values), "default")
			for _, m := range res.Messages {
				t.Log(m)
				if m.Severity >= support.WarningSev {
					t.Errorf("lint: %s", m)
				}
			}
		})
	}
}

// env returns the container's environment as a map of name to entry.
func env(c corev1.Container) map[string]corev1.EnvVar {
	m := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

// container returns the pod's container (or init container) named name.
func container(t *testing.T, cs []corev1.Container, name string) corev1.Container {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q", name)
	return corev1.Container{}
}

// checkSecure checks a container's security context: non-root, read-only
// root file system, no privilege escalation, every capability dropped.
func checkSecure(t *testing.T, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil {
		t.Fatalf("%s: no securityContext", c.Name)
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: runAsNonRoot not set", c.Name)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem not set", c.Name)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation not false", c.Name)
	}
	if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
		t.Errorf("%s: capabilities %+v, want drop [ALL] and nothing added", c.Name, sc.Capabilities)
	}
}

// checkSecretFiles checks that every key is read as NAME_FILE from the
// mounted existingSecret, and that no secret is a plain value.
func checkSecretFiles(t *testing.T, r *rendered, secret string, keys ...string) {
	t.Helper()
	pod := r.deployment.Spec.Template.Spec
	var vol *corev1.Volume
	for i := range pod.Volumes {
		if pod.Volumes[i].Secret != nil {
			vol = &pod.Volumes[i]
		}
	}
	if vol == nil || vol.Secret.SecretName != secret {
		t.Fatalf("no volume of Secret %q: %+v", secret, pod.Volumes)
	}
	if m := vol.Secret.DefaultMode; m == nil || *m != 0o400 {
		t.Errorf("secret files mode %v, want 0400", m)
	}
	items := map[string]string{}
	for _, it := range vol.Secret.Items {
		items[it.Key] = it.Path
	}
	c := container(t, pod.Containers, "onbehalf")
	e := env(c)
	for _, k := range keys {
		if items[k] != k {
			t.Errorf("key %s not mounted as %s (items %v)", k, k, items)
		}
		if got := e[k+"_FILE"].Value; got != secretDir+"/"+k {
			t.Errorf("%s_FILE = %q, want %s/%s", k, got, secretDir, k)
		}
		if _, ok := e[k]; ok {
			t.Errorf("%s is set directly, not from the Secret's file", k)
		}
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.Name == vol.Name && m.MountPath == secretDir && m.ReadOnly {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("Secret not mounted read-only at %s: %+v", secretDir, c.VolumeMounts)
	}
}

// checkProbes checks the probes of the server's container: liveness on
// /livez, readiness on /readyz, both on the http port.
func checkProbes(t *testing.T, c corev1.Container) {
	t.Helper()
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/livez"}, {"readiness", c.ReadinessProbe, "/readyz"}, {"startup", c.StartupProbe, "/livez"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no HTTP %s probe", p.name)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || p.probe.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe: GET %s on %s, want %s on http", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path)
		}
	}
	if len(c.Ports) == 0 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("ports %+v, want http on 8080", c.Ports)
	}
}

// TestDefault: one instance on bbolt, with a volume, probes, a secure
// pod and the secret read from a file.
func TestDefault(t *testing.T) {
	r := mustRender(t, "default.yaml")
	d := r.deployment
	pod := d.Spec.Template.Spec
	c := container(t, pod.Containers, "onbehalf")
	checkProbes(t, c)
	checkSecure(t, c)
	checkSecretFiles(t, r, "onbehalf", "ZOOM_CLIENT_SECRET")
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy %q: with bbolt the old pod must stop before the new one opens the file", d.Spec.Strategy.Type)
	}
	if len(pod.InitContainers) != 0 {
		t.Errorf("init containers with bbolt: %+v", pod.InitContainers)
	}
	ps := pod.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser != 65532 || ps.FSGroup == nil || *ps.FSGroup != 65532 {
		t.Errorf("pod securityContext %+v: want non-root 65532 and fsGroup 65532 (the /data volume)", ps)
	}
	if ps != nil && (ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault) {
		t.Errorf("seccomp profile %+v, want RuntimeDefault", ps.SeccompProfile)
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the service account token is mounted: onbehalf never talks to the Kubernetes API")
	}
	e := env(c)
	if e["BASE_URL"].Value != "https://onbehalf.example.com" || e["DB_PATH"].Value != "/data/onbehalf.db" || e["ZOOM_CLIENT_ID"].Value != "abc123" {
		t.Errorf("env %+v", e)
	}
	if _, ok := e["DATABASE_URL"]; ok {
		t.Error("DATABASE_URL set without database.enabled")
	}
	// The grace period covers the drain, the 20 s requests get to finish
	// and a margin.
	if g := pod.TerminationGracePeriodSeconds; g == nil || *g <= 5+20 {
		t.Errorf("terminationGracePeriodSeconds %v, want more than SHUTDOWN_DRAIN (5s) + 20s", g)
	}
	if e["SHUTDOWN_DRAIN"].Value != "5s" {
		t.Errorf("SHUTDOWN_DRAIN = %q", e["SHUTDOWN_DRAIN"].Value)
	}
	if r.pvc == nil || r.pvc.Annotations["helm.sh/resource-policy"] != "keep" {
		t.Errorf("no PersistentVolumeClaim kept for the bbolt file: %+v", r.pvc)
	}
	var data *corev1.Volume
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == "data" {
			data = &pod.Volumes[i]
		}
	}
	if data == nil || data.PersistentVolumeClaim == nil || data.PersistentVolumeClaim.ClaimName != r.pvc.Name {
		t.Errorf("/data is not the claim: %+v", data)
	}
	if r.pdb == nil || r.pdb.Spec.MaxUnavailable == nil || r.pdb.Spec.MaxUnavailable.IntValue() != 1 {
		t.Errorf("PodDisruptionBudget %+v, want maxUnavailable 1", r.pdb)
	}
	if _, ok := r.other["ServiceMonitor"]; ok {
		t.Error("a ServiceMonitor by default")
	}
	if len(r.service.Spec.Ports) != 2 || r.service.Spec.Ports[0].TargetPort.String() != "http" || r.service.Spec.Ports[1].TargetPort.String() != "metrics" {
		t.Errorf("service ports %+v", r.service.Spec.Ports)
	}
}

// TestPostgres: three instances, DATABASE_URL from the Secret, the
// other secrets as files, and the migration before the server starts.
func TestPostgres(t *testing.T) {
	r := mustRender(t, "postgres.yaml")
	d := r.deployment
	pod := d.Spec.Template.Spec
	if *d.Spec.Replicas != 3 || d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		t.Errorf("replicas %d, strategy %q: want 3, rolling", *d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	c := container(t, pod.Containers, "onbehalf")
	checkProbes(t, c)
	checkSecure(t, c)
	checkSecretFiles(t, r, "onbehalf-secrets", "ZOOM_CLIENT_SECRET", "TOKEN_ENCRYPTION_KEY", "RECALL_API_KEY")
	for _, cc := range []corev1.Container{c, container(t, pod.InitContainers, "migrate")} {
		u := env(cc)["DATABASE_URL"]
		if u.Value != "" || u.ValueFrom == nil || u.ValueFrom.SecretKeyRef == nil ||
			u.ValueFrom.SecretKeyRef.Name != "onbehalf-secrets" || u.ValueFrom.SecretKeyRef.Key != "DATABASE_URL" {
			t.Errorf("%s: DATABASE_URL %+v, want from Secret onbehalf-secrets key DATABASE_URL", cc.Name, u)
		}
	}
	m := container(t, pod.InitContainers, "migrate")
	checkSecure(t, m)
	if m.Image != c.Image || strings.Join(m.Args, " ") != "apikey list" {
		t.Errorf("migration: image %s args %v, want the server's image (%s) running apikey list", m.Image, m.Args, c.Image)
	}
	if len(m.Env) != len(c.Env) {
		t.Errorf("the migration's environment differs from the server's: %d vs %d variables", len(m.Env), len(c.Env))
	}
	if r.pvc != nil {
		t.Error("a PersistentVolumeClaim with PostgreSQL")
	}
}

// TestServiceMonitor: the metrics port scraped by prometheus-operator.
func TestServiceMonitor(t *testing.T) {
	r := mustRender(t, "servicemonitor.yaml")
	sm, ok := r.other["ServiceMonitor"]
	if !ok {
		t.Fatal("no ServiceMonitor")
	}
	b, _ := yaml.Marshal(sm)
	for _, want := range []string{"apiVersion: monitoring.coreos.com/v1", "port: metrics", "path: /metrics", "release: prometheus", "app.kubernetes.io/instance: ob"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("ServiceMonitor lacks %q:\n%s", want, b)
		}
	}
	e := env(container(t, r.deployment.Spec.Template.Spec.Containers, "onbehalf"))
	if e["METRICS"].Value != "true" || e["METRICS_ADDR"].Value != ":9090" {
		t.Errorf("METRICS=%q METRICS_ADDR=%q", e["METRICS"].Value, e["METRICS_ADDR"].Value)
	}
}

// TestRefuses: values that cannot work fail to render, saying why.
func TestRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(v map[string]any)
		want string
	}{
		{"no baseURL", func(v map[string]any) { delete(v, "baseURL") }, "baseURL is required"},
		{"bbolt on two instances", func(v map[string]any) { v["replicaCount"] = 2 }, "replicaCount > 1 needs database.enabled"},
		{"no secret", func(v map[string]any) { delete(v, "existingSecret") }, "existingSecret is required"},
		{"postgres without a key", func(v map[string]any) { v["database"] = map[string]any{"enabled": true} }, "TOKEN_ENCRYPTION_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := readValues(t, "default.yaml")
			tc.edit(v)
			_, err := render(t, v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
}
