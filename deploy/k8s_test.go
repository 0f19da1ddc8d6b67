package deploy

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// The Kubernetes manifests in k8s/ are checked here without a cluster: each file is decoded
// strictly into its typed k8s.io/api object (sigs.k8s.io/yaml.UnmarshalStrict: an unknown,
// misspelt or duplicated field is an error, as with `kubectl apply --validate=strict`) and what
// matters to running capmatch is asserted.

const k8sDir = "k8s"

// closeBudget is what shutdown spends after the drain: closing Redis and disconnecting MongoDB
// (cmd/capmatch gives the disconnect 5 s).
const closeBudgetSeconds = 5

// measuredIdleRSS is the API's resident memory idle with the demo data set (embedded mode,
// docs/operations.md); the memory request must exceed it.
var measuredIdleRSS = resource.MustParse("64Mi")

// What the Deployment is sized for: 100,000 needs + 100,000 offers, measured with
// cmd/capmatch-startup (BENCHMARKS.md, "Start-up against the size of the marketplace"): the
// live heap once loaded, the peak RSS of the start-up without GOMEMLIMIT, and the time until
// the listener would open, reading through the driver as on MongoDB (from the embedded
// FerretDB, on the shared 2-core machine: 128 s at a load average of 3-5 on 7 December 2026
// after issue 16's changes; 184 s at 10 before them, which the probe still covers).
var (
	measuredLiveHeapSized = resource.MustParse("482Mi")
	measuredPeakRSSSized  = resource.MustParse("750Mi")
)

const measuredReadySizedSeconds = 185

// k8sObject is what every typed manifest is.
type k8sObject interface {
	metav1.Object
	GetObjectKind() schema.ObjectKind
}

// kustomization is the part of kustomize's Kustomization that k8s/kustomization.yaml uses.
// Decoding it strictly makes any other field an error until it is added here.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// manifests are the files in k8s/ with the object each must decode into. Files ending in
// .example.yaml are examples, not applied by the kustomization.
var manifests = map[string]struct {
	apiVersion, kind string
	new              func() k8sObject
}{
	"serviceaccount.yaml":  {"v1", "ServiceAccount", func() k8sObject { return &corev1.ServiceAccount{} }},
	"configmap.yaml":       {"v1", "ConfigMap", func() k8sObject { return &corev1.ConfigMap{} }},
	"deployment.yaml":      {"apps/v1", "Deployment", func() k8sObject { return &appsv1.Deployment{} }},
	"service.yaml":         {"v1", "Service", func() k8sObject { return &corev1.Service{} }},
	"hpa.yaml":             {"autoscaling/v2", "HorizontalPodAutoscaler", func() k8sObject { return &autoscalingv2.HorizontalPodAutoscaler{} }},
	"pdb.yaml":             {"policy/v1", "PodDisruptionBudget", func() k8sObject { return &policyv1.PodDisruptionBudget{} }},
	"networkpolicy.yaml":   {"networking.k8s.io/v1", "NetworkPolicy", func() k8sObject { return &networkingv1.NetworkPolicy{} }},
	"secret.example.yaml":  {"v1", "Secret", func() k8sObject { return &corev1.Secret{} }},
	"ingress.example.yaml": {"networking.k8s.io/v1", "Ingress", func() k8sObject { return &networkingv1.Ingress{} }},
}

// decodeStrict reads one single-document manifest into v, rejecting unknown and duplicate
// fields, and field names that match only when case is ignored.
func decodeStrict(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(k8sDir, file))
	require.NoError(t, err)
	require.NotContains(t, "\n"+string(b), "\n---", "%s holds exactly one document", file)
	require.NoError(t, yaml.UnmarshalStrict(b, v), file)
	var generic any
	require.NoError(t, yaml.Unmarshal(b, &generic), file)
	assert.Empty(t, fieldCaseErrors("", generic, reflect.TypeOf(v)), file)
}

var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

// fieldCaseErrors walks decoded YAML alongside the Go type it was decoded into and returns the
// keys that are not a field's exact JSON name. encoding/json, under sigs.k8s.io/yaml, matches
// names regardless of case ("readinessprobe" fills readinessProbe); the API server does not.
func fieldCaseErrors(path string, v any, typ reflect.Type) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if reflect.PointerTo(typ).Implements(jsonUnmarshaler) {
		return nil
	}
	var errs []string
	switch typ.Kind() {
	case reflect.Struct:
		m, _ := v.(map[string]any)
		fields := jsonFields(typ)
		for k, sub := range m {
			ft, ok := fields[k]
			if !ok {
				errs = append(errs, path+k+" is not a field (names are case-sensitive)")
				continue
			}
			errs = append(errs, fieldCaseErrors(path+k+".", sub, ft)...)
		}
	case reflect.Slice:
		s, _ := v.([]any)
		for i, e := range s {
			errs = append(errs, fieldCaseErrors(fmt.Sprintf("%s[%d].", strings.TrimSuffix(path, "."), i), e, typ.Elem())...)
		}
	case reflect.Map:
		m, _ := v.(map[string]any)
		for k, e := range m {
			errs = append(errs, fieldCaseErrors(path+k+".", e, typ.Elem())...)
		}
	}
	return errs
}

// jsonFields maps the JSON names of a struct's fields, embedded structs' included, to their types.
func jsonFields(typ reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				maps.Copy(out, jsonFields(ft))
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func decodeAs[T any](t *testing.T, file string) *T {
	t.Helper()
	v := new(T)
	decodeStrict(t, file, v)
	return v
}

// cluster is every manifest, decoded.
type cluster struct {
	sa     *corev1.ServiceAccount
	cm     *corev1.ConfigMap
	dep    *appsv1.Deployment
	svc    *corev1.Service
	hpa    *autoscalingv2.HorizontalPodAutoscaler
	pdb    *policyv1.PodDisruptionBudget
	np     *networkingv1.NetworkPolicy
	secret *corev1.Secret
	ing    *networkingv1.Ingress
}

func load(t *testing.T) cluster {
	t.Helper()
	return cluster{
		sa:     decodeAs[corev1.ServiceAccount](t, "serviceaccount.yaml"),
		cm:     decodeAs[corev1.ConfigMap](t, "configmap.yaml"),
		dep:    decodeAs[appsv1.Deployment](t, "deployment.yaml"),
		svc:    decodeAs[corev1.Service](t, "service.yaml"),
		hpa:    decodeAs[autoscalingv2.HorizontalPodAutoscaler](t, "hpa.yaml"),
		pdb:    decodeAs[policyv1.PodDisruptionBudget](t, "pdb.yaml"),
		np:     decodeAs[networkingv1.NetworkPolicy](t, "networkpolicy.yaml"),
		secret: decodeAs[corev1.Secret](t, "secret.example.yaml"),
		ing:    decodeAs[networkingv1.Ingress](t, "ingress.example.yaml"),
	}
}

// podLabels are the labels of the Deployment's pods.
func (c cluster) podLabels() labels.Set { return labels.Set(c.dep.Spec.Template.Labels) }

// container is the API container.
func (c cluster) container(t *testing.T) corev1.Container {
	t.Helper()
	cs := c.dep.Spec.Template.Spec.Containers
	require.Len(t, cs, 1, "one container")
	return cs[0]
}

// containerPort resolves a named or numbered port of the API container.
func (c cluster) containerPort(t *testing.T, p intstr.IntOrString) int32 {
	t.Helper()
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.container(t).Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	t.Fatalf("the container has no port named %q", p.StrVal)
	return 0
}

// listenPort is the port of CAPMATCH_ADDR in the ConfigMap: what the binary listens on.
func (c cluster) listenPort(t *testing.T) int32 {
	t.Helper()
	_, port, err := net.SplitHostPort(c.cm.Data["CAPMATCH_ADDR"])
	require.NoError(t, err, "CAPMATCH_ADDR is host:port")
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	return int32(n)
}

func matches(t *testing.T, sel *metav1.LabelSelector, set labels.Set) bool {
	t.Helper()
	require.NotNil(t, sel)
	s, err := metav1.LabelSelectorAsSelector(sel)
	require.NoError(t, err)
	return !s.Empty() && s.Matches(set)
}

// TestManifestsDecodeStrictly decodes every file in k8s/ into its typed object and checks its
// kind, that it names no namespace, and that it carries the app label.
func TestManifestsDecodeStrictly(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	require.NoError(t, err)
	for _, path := range files {
		name := filepath.Base(path)
		if name == "kustomization.yaml" {
			continue
		}
		m, ok := manifests[name]
		if !assert.True(t, ok, "%s is not known to this test: add it to manifests", name) {
			continue
		}
		obj := m.new()
		decodeStrict(t, name, obj)
		gvk := obj.GetObjectKind().GroupVersionKind()
		assert.Equal(t, m.apiVersion, gvk.GroupVersion().String(), "%s apiVersion", name)
		assert.Equal(t, m.kind, gvk.Kind, "%s kind", name)
		assert.NotEmpty(t, obj.GetName(), "%s has a name", name)
		assert.Empty(t, obj.GetNamespace(), "%s is namespace-agnostic", name)
		assert.Equal(t, "capmatch", obj.GetLabels()["app.kubernetes.io/name"], "%s is labelled", name)
	}
	for name := range manifests {
		assert.FileExists(t, filepath.Join(k8sDir, name))
	}
}

// TestStrictDecodingRejectsTypos shows that the decoding above catches a misspelt field.
func TestStrictDecodingRejectsTypos(t *testing.T) {
	var d appsv1.Deployment
	err := yaml.UnmarshalStrict([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 3\n"), &d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "replica")
	err = yaml.UnmarshalStrict([]byte("kind: Deployment\nkind: Deployment\n"), &d)
	assert.Error(t, err, "duplicate fields")

	// A name that differs only in case passes encoding/json but not fieldCaseErrors.
	doc := []byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: x\n          readinessprobe: {httpGet: {path: /readyz, port: http}}\n")
	require.NoError(t, yaml.UnmarshalStrict(doc, &d))
	var generic any
	require.NoError(t, yaml.Unmarshal(doc, &generic))
	assert.Equal(t, []string{"spec.template.spec.containers[0].readinessprobe is not a field (names are case-sensitive)"},
		fieldCaseErrors("", generic, reflect.TypeOf(&d)))
}

// TestKustomizationListsEveryManifest: every manifest is applied, and no example is.
func TestKustomizationListsEveryManifest(t *testing.T) {
	k := decodeAs[kustomization](t, "kustomization.yaml")
	assert.Equal(t, "kustomize.config.k8s.io/v1beta1", k.APIVersion)
	assert.Equal(t, "Kustomization", k.Kind)

	files, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	require.NoError(t, err)
	var want []string
	for _, f := range files {
		name := filepath.Base(f)
		if name != "kustomization.yaml" && !strings.HasSuffix(name, ".example.yaml") {
			want = append(want, name)
		}
	}
	got := slices.Clone(k.Resources)
	slices.Sort(got)
	slices.Sort(want)
	assert.Equal(t, want, got, "kustomization.yaml lists every manifest except the examples, once")
	assert.NotContains(t, k.Resources, "secret.example.yaml", "the secret example is never applied")

	c := load(t)
	require.Len(t, k.Images, 1)
	assert.Equal(t, c.container(t).Image, k.Images[0].Name, "the images entry rewrites the container's image")
}

// TestDeploymentProbesAndPorts: probes on the paths the binary serves, on the port it listens on.
func TestDeploymentProbesAndPorts(t *testing.T) {
	c := load(t)
	ctr := c.container(t)
	port := c.listenPort(t)
	assert.Equal(t, port, c.containerPort(t, intstr.FromString("http")), "the http port is CAPMATCH_ADDR's")

	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"readiness", ctr.ReadinessProbe, "/readyz"},
		{"liveness", ctr.LivenessProbe, "/healthz"},
		{"startup", ctr.StartupProbe, "/healthz"},
	} {
		require.NotNil(t, p.probe, "%s probe", p.name)
		require.NotNil(t, p.probe.HTTPGet, "%s probe is an HTTP GET", p.name)
		assert.Equal(t, p.path, p.probe.HTTPGet.Path, "%s probe path", p.name)
		assert.Equal(t, port, c.containerPort(t, p.probe.HTTPGet.Port), "%s probe port", p.name)
		assert.Contains(t, []corev1.URIScheme{"", corev1.URISchemeHTTP}, p.probe.HTTPGet.Scheme, "%s probe scheme", p.name)
	}
	// /readyz waits up to 1 s for MongoDB and Redis.
	assert.Greater(t, ctr.ReadinessProbe.TimeoutSeconds, int32(1), "readiness timeout above /readyz's own 1 s")
	// Start-up loads the read model before listening.
	s := ctr.StartupProbe
	assert.GreaterOrEqual(t, s.PeriodSeconds*s.FailureThreshold, int32(60), "start-up gets at least a minute")
	assert.GreaterOrEqual(t, s.PeriodSeconds*s.FailureThreshold, int32(2*measuredReadySizedSeconds),
		"start-up gets twice the time measured at the data size the Deployment is sized for")
}

// TestDeploymentResources: requests and limits for CPU and memory, sized from the measured RSS,
// and GOMEMLIMIT below the memory limit.
func TestDeploymentResources(t *testing.T) {
	c := load(t)
	ctr := c.container(t)
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, ok := ctr.Resources.Requests[r]
		require.True(t, ok, "%s request", r)
		lim, ok := ctr.Resources.Limits[r]
		require.True(t, ok, "%s limit", r)
		assert.LessOrEqual(t, req.Cmp(lim), 0, "%s request <= limit", r)
	}
	memReq := ctr.Resources.Requests[corev1.ResourceMemory]
	memLim := ctr.Resources.Limits[corev1.ResourceMemory]
	assert.Equal(t, 1, memReq.Cmp(measuredIdleRSS), "memory request above the measured idle RSS")

	var goMemLimit string
	for _, e := range ctr.Env {
		if e.Name == "GOMEMLIMIT" {
			goMemLimit = e.Value
		}
	}
	require.NotEmpty(t, goMemLimit, "GOMEMLIMIT is set")
	n, err := parseGoMemLimit(goMemLimit)
	require.NoError(t, err)
	assert.Less(t, n, memLim.Value(), "GOMEMLIMIT below the memory limit")
	assert.Greater(t, n, memReq.Value(), "GOMEMLIMIT above the memory request")
	// At the data size it is sized for: the collector has room above the live heap, and the
	// start-up's peak without GOMEMLIMIT fits under the limit.
	assert.GreaterOrEqual(t, float64(n), 1.5*float64(measuredLiveHeapSized.Value()), "GOMEMLIMIT at least 1.5 × the live heap at the sized data")
	assert.Greater(t, memReq.Value(), measuredLiveHeapSized.Value(), "memory request above the live heap at the sized data")
	assert.Equal(t, 1, memLim.Cmp(measuredPeakRSSSized), "memory limit above the start-up's peak RSS at the sized data")
}

// parseGoMemLimit reads a GOMEMLIMIT value: a byte count with an optional B, KiB, MiB, GiB or
// TiB suffix.
func parseGoMemLimit(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n * mult, err
}

// TestDeploymentSecurity: non-root, read-only root filesystem, no capabilities, RuntimeDefault
// seccomp, no service-account token, no injected service variables.
func TestDeploymentSecurity(t *testing.T) {
	c := load(t)
	pod := c.dep.Spec.Template.Spec
	ctr := c.container(t)
	psc := pod.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	csc := ctr.SecurityContext
	require.NotNil(t, csc, "container securityContext")

	nonRoot := csc.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = psc.RunAsNonRoot
	}
	require.NotNil(t, nonRoot)
	assert.True(t, *nonRoot, "runAsNonRoot")
	uid := csc.RunAsUser
	if uid == nil {
		uid = psc.RunAsUser
	}
	if uid != nil {
		assert.NotZero(t, *uid, "runAsUser is not root")
	}
	seccomp := csc.SeccompProfile
	if seccomp == nil {
		seccomp = psc.SeccompProfile
	}
	require.NotNil(t, seccomp, "seccomp profile")
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, seccomp.Type)

	require.NotNil(t, csc.ReadOnlyRootFilesystem)
	assert.True(t, *csc.ReadOnlyRootFilesystem, "readOnlyRootFilesystem")
	require.NotNil(t, csc.AllowPrivilegeEscalation)
	assert.False(t, *csc.AllowPrivilegeEscalation, "allowPrivilegeEscalation")
	assert.True(t, csc.Privileged == nil || !*csc.Privileged, "not privileged")
	require.NotNil(t, csc.Capabilities)
	assert.Equal(t, []corev1.Capability{"ALL"}, csc.Capabilities.Drop, "drop all capabilities")
	assert.Empty(t, csc.Capabilities.Add)

	assert.False(t, pod.HostNetwork || pod.HostPID || pod.HostIPC)
	assert.Equal(t, c.sa.Name, pod.ServiceAccountName)
	require.NotNil(t, c.sa.AutomountServiceAccountToken)
	assert.False(t, *c.sa.AutomountServiceAccountToken)
	require.NotNil(t, pod.AutomountServiceAccountToken)
	assert.False(t, *pod.AutomountServiceAccountToken, "no API token in the pod")
	require.NotNil(t, pod.EnableServiceLinks)
	assert.False(t, *pod.EnableServiceLinks, "no FOO_SERVICE_HOST variables next to the configuration")
}

// envReadByBinary returns the environment variables cmd/capmatch reads, from its source: the
// first argument of every get("...") and getenv("...") call in its non-test files (loadConfig
// and the few variables read beside it).
func envReadByBinary(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "cmd", "capmatch", "*.go"))
	require.NoError(t, err)
	names := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || (id.Name != "get" && id.Name != "getenv") {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					names[s] = true
				}
			}
			return true
		})
	}
	for _, must := range []string{"CAPMATCH_ADDR", "MONGO_URI", "MONGO_DB", "REDIS_URL", "CAPMATCH_JWT_SECRET", "CAPMATCH_DEMO"} {
		require.True(t, names[must], "found %s in cmd/capmatch (found %v)", must, names)
	}
	return names
}

// runtimeEnv are variables the Go runtime reads rather than cmd/capmatch.
var runtimeEnv = map[string]bool{"GOMEMLIMIT": true, "GOMAXPROCS": true, "GOGC": true}

// TestDeploymentEnvironment: every variable the Deployment sets is one the binary reads, and
// each reference names a key that exists.
func TestDeploymentEnvironment(t *testing.T) {
	c := load(t)
	ctr := c.container(t)
	known := envReadByBinary(t)
	assert.Empty(t, ctr.EnvFrom, "variables are listed one by one, so each is checked here")

	seen := map[string]bool{}
	fromConfig := map[string]bool{}
	secretRefs := map[string]*corev1.SecretKeySelector{}
	for _, e := range ctr.Env {
		assert.False(t, seen[e.Name], "%s set once", e.Name)
		seen[e.Name] = true
		assert.True(t, known[e.Name] || runtimeEnv[e.Name], "%s is read by cmd/capmatch or the Go runtime", e.Name)
		if e.ValueFrom == nil {
			continue
		}
		switch {
		case e.ValueFrom.ConfigMapKeyRef != nil:
			r := e.ValueFrom.ConfigMapKeyRef
			assert.Equal(t, c.cm.Name, r.Name, "%s from the ConfigMap", e.Name)
			assert.Equal(t, e.Name, r.Key, "%s from the key of the same name", e.Name)
			_, ok := c.cm.Data[r.Key]
			assert.True(t, ok, "the ConfigMap has %s", r.Key)
			fromConfig[e.Name] = true
		case e.ValueFrom.SecretKeyRef != nil:
			r := e.ValueFrom.SecretKeyRef
			assert.Equal(t, c.secret.Name, r.Name, "%s from the Secret", e.Name)
			assert.Equal(t, e.Name, r.Key, "%s from the key of the same name", e.Name)
			secretRefs[e.Name] = r
		default:
			t.Errorf("%s comes from neither the ConfigMap nor the Secret", e.Name)
		}
	}

	assert.Equal(t, map[string]bool{"CAPMATCH_ADDR": true, "MONGO_DB": true, "CAPMATCH_DEMO": true, "CAPMATCH_LOG_LEVEL": true, "CAPMATCH_REDIS_PREFIX": true},
		fromConfig, "configuration from the ConfigMap")
	for k := range c.cm.Data {
		assert.True(t, known[k], "ConfigMap key %s is read by cmd/capmatch", k)
		assert.True(t, fromConfig[k], "ConfigMap key %s reaches the container", k)
	}
	assert.Equal(t, "false", c.cm.Data["CAPMATCH_DEMO"], "no demo data in a real deployment")

	// Without MONGO_URI and REDIS_URL the binary would start its embedded single-process store:
	// a missing key must stop the pod instead.
	for _, k := range []string{"MONGO_URI", "REDIS_URL", "CAPMATCH_JWT_SECRET"} {
		r, ok := secretRefs[k]
		require.True(t, ok, "%s from the Secret", k)
		assert.True(t, r.Optional == nil || !*r.Optional, "%s is required", k)
		_, inExample := c.secret.StringData[k]
		assert.True(t, inExample, "secret.example.yaml shows %s", k)
	}
	for k := range c.secret.StringData {
		assert.NotNil(t, secretRefs[k], "secret.example.yaml key %s reaches the container", k)
	}
	// A Secret with only the example's keys starts the pod: anything else is optional.
	for k, r := range secretRefs {
		if _, inExample := c.secret.StringData[k]; !inExample {
			assert.True(t, r.Optional != nil && *r.Optional, "%s, not in secret.example.yaml, is optional", k)
		}
	}
}

// TestSecretExampleIsNotUsable: the example is marked as such, and its JWT placeholder is too
// short for loadConfig (at least 32 bytes), so a deployment of it unchanged fails at start-up.
func TestSecretExampleIsNotUsable(t *testing.T) {
	c := load(t)
	b, err := os.ReadFile(filepath.Join(k8sDir, "secret.example.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "NOT FOR PRODUCTION")
	assert.Less(t, len(c.secret.StringData["CAPMATCH_JWT_SECRET"]), 32)
	assert.Empty(t, c.secret.Data, "placeholders only, in stringData")
}

// shutdownBudget reads cmd/capmatch's shutdownBudget constant (the drain, "N * time.Second") in
// seconds.
func shutdownBudget(t *testing.T) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "cmd", "capmatch", "*.go"))
	require.NoError(t, err)
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				if len(vs.Names) != 1 || vs.Names[0].Name != "shutdownBudget" || len(vs.Values) != 1 {
					continue
				}
				be, ok := vs.Values[0].(*ast.BinaryExpr)
				require.True(t, ok && be.Op == token.MUL, "shutdownBudget is N * time.Second")
				lit, ok := be.X.(*ast.BasicLit)
				require.True(t, ok && lit.Kind == token.INT, "shutdownBudget is N * time.Second")
				sel, ok := be.Y.(*ast.SelectorExpr)
				require.True(t, ok && sel.Sel.Name == "Second", "shutdownBudget is N * time.Second")
				n, err := strconv.ParseInt(lit.Value, 10, 64)
				require.NoError(t, err)
				return n
			}
		}
	}
	t.Fatal("no shutdownBudget constant in cmd/capmatch")
	return 0
}

// TestDeploymentShutdownAndSpread: a preStop sleep, a grace period that covers it plus the
// drain, rolling updates that never drop below the replica count, and spread replicas.
func TestDeploymentShutdownAndSpread(t *testing.T) {
	c := load(t)
	pod := c.dep.Spec.Template.Spec
	ctr := c.container(t)

	assert.Nil(t, c.dep.Spec.Replicas, "the HPA owns the replica count; a fixed one would be reset by every apply")
	assert.True(t, matches(t, c.dep.Spec.Selector, c.podLabels()), "the selector selects the pods")
	ru := c.dep.Spec.Strategy.RollingUpdate
	require.NotNil(t, ru)
	require.NotNil(t, ru.MaxUnavailable)
	assert.Equal(t, intstr.FromInt32(0), *ru.MaxUnavailable, "rollouts add a replica before removing one")

	require.NotNil(t, ctr.Lifecycle)
	require.NotNil(t, ctr.Lifecycle.PreStop)
	require.NotNil(t, ctr.Lifecycle.PreStop.Sleep, "preStop sleep action (the image has no shell)")
	sleep := ctr.Lifecycle.PreStop.Sleep.Seconds
	assert.GreaterOrEqual(t, sleep, int64(3), "long enough for endpoint removal to propagate")
	require.NotNil(t, pod.TerminationGracePeriodSeconds)
	grace := *pod.TerminationGracePeriodSeconds
	budget := shutdownBudget(t)
	assert.Greater(t, grace, budget+sleep, "grace period > drain budget + preStop sleep")
	assert.Greater(t, grace, budget+sleep+closeBudgetSeconds, "and the clients' close")

	require.NotEmpty(t, pod.TopologySpreadConstraints)
	keys := map[string]bool{}
	for _, tsc := range pod.TopologySpreadConstraints {
		keys[tsc.TopologyKey] = true
		assert.True(t, matches(t, tsc.LabelSelector, c.podLabels()), "spread constraint on %s counts these pods", tsc.TopologyKey)
		assert.Equal(t, int32(1), tsc.MaxSkew)
	}
	assert.True(t, keys["kubernetes.io/hostname"], "spread over nodes")
	assert.True(t, keys["topology.kubernetes.io/zone"], "spread over zones")
}

// TestServiceHPAAndPDB: the Service and the PDB select the pods, the HPA scales the Deployment.
func TestServiceHPAAndPDB(t *testing.T) {
	c := load(t)
	port := c.listenPort(t)

	assert.True(t, labels.SelectorFromSet(c.svc.Spec.Selector).Matches(c.podLabels()), "Service selects the pods")
	assert.NotEmpty(t, c.svc.Spec.Selector)
	require.Len(t, c.svc.Spec.Ports, 1)
	assert.Equal(t, port, c.containerPort(t, c.svc.Spec.Ports[0].TargetPort), "Service targets the API port")

	ref := c.hpa.Spec.ScaleTargetRef
	assert.Equal(t, "apps/v1", ref.APIVersion)
	assert.Equal(t, "Deployment", ref.Kind)
	assert.Equal(t, c.dep.Name, ref.Name, "HPA scales the Deployment")
	require.NotNil(t, c.hpa.Spec.MinReplicas)
	assert.GreaterOrEqual(t, *c.hpa.Spec.MinReplicas, int32(3), "at least three replicas, spread across nodes")
	assert.Greater(t, c.hpa.Spec.MaxReplicas, *c.hpa.Spec.MinReplicas)
	var cpu bool
	for _, m := range c.hpa.Spec.Metrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU {
			cpu = m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && m.Resource.Target.AverageUtilization != nil
		}
	}
	assert.True(t, cpu, "HPA scales on CPU utilization")

	assert.True(t, matches(t, c.pdb.Spec.Selector, c.podLabels()), "PDB selects the pods")
	require.NotNil(t, c.pdb.Spec.MinAvailable, "PDB uses minAvailable")
	assert.Nil(t, c.pdb.Spec.MaxUnavailable)
	require.Equal(t, intstr.Int, c.pdb.Spec.MinAvailable.Type)
	minAvail := c.pdb.Spec.MinAvailable.IntVal
	assert.GreaterOrEqual(t, minAvail, int32(1))
	assert.Less(t, minAvail, *c.hpa.Spec.MinReplicas, "drains can always evict one replica")

	b := c.ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service
	require.NotNil(t, b)
	assert.Equal(t, c.svc.Name, b.Name, "the Ingress example routes to the Service")
	assert.Equal(t, c.svc.Spec.Ports[0].Name, b.Port.Name)
}

// TestNetworkPolicy: ingress only from the ingress controller's namespace on the API port;
// egress only to MongoDB, Redis and DNS.
func TestNetworkPolicy(t *testing.T) {
	c := load(t)
	np := c.np.Spec
	assert.True(t, matches(t, &np.PodSelector, c.podLabels()), "the policy applies to the pods")
	assert.ElementsMatch(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.PolicyTypes)

	portSet := func(ps []networkingv1.NetworkPolicyPort) []string {
		var out []string
		for _, p := range ps {
			require.NotNil(t, p.Port, "every rule names its port")
			proto := corev1.ProtocolTCP
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			out = append(out, string(proto)+"/"+p.Port.String())
		}
		return out
	}

	require.Len(t, np.Ingress, 1)
	in := np.Ingress[0]
	require.NotEmpty(t, in.From, "an ingress rule without peers would admit everyone")
	for _, from := range in.From {
		require.NotNil(t, from.NamespaceSelector, "from a namespace")
		assert.NotEmpty(t, from.NamespaceSelector.MatchLabels, "a labelled namespace, not every namespace")
		assert.Nil(t, from.IPBlock)
	}
	assert.Equal(t, []string{"TCP/" + strconv.Itoa(int(c.listenPort(t)))}, portSet(in.Ports), "only the API port")

	var egress []string
	for _, r := range np.Egress {
		require.NotEmpty(t, r.Ports, "an egress rule without ports would allow every port")
		egress = append(egress, portSet(r.Ports)...)
	}
	assert.ElementsMatch(t, []string{"TCP/27017", "TCP/6379", "UDP/53", "TCP/53"}, egress)
}
