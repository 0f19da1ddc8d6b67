package deploy

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"math/big"
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
	"sigs.k8s.io/yaml"
)

// The Kubernetes manifests in k8s/ are checked here without a cluster: each file is decoded
// strictly (sigs.k8s.io/yaml.UnmarshalStrict: an unknown, misspelt or duplicated field is an
// error) and what matters to running capmatch is asserted.
//
// The decoding targets below mirror the k8s.io/api (v0.34.1) types with their JSON field names,
// restricted to the fields these manifests use: a field they lack, misspelt or merely new,
// fails the decode until it is added here, copied from k8s.io/api. (Decoding into k8s.io/api
// itself needs k8s.io/apimachinery and its dependencies in go.mod.)

const k8sDir = "k8s"

// closeBudgetSeconds is what shutdown spends after the drain: closing Redis and disconnecting
// MongoDB (cmd/capmatch gives the disconnect 5 s).
const closeBudgetSeconds = 5

// measuredIdleRSS is the API's resident memory idle with the demo data set (embedded mode,
// docs/operations.md); the memory request must exceed it.
const measuredIdleRSS = "64Mi"

// ---- decoding targets: k8s.io/api field names, only what the manifests use ----

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

type objectMeta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// labelSelector is metav1.LabelSelector without matchExpressions (not used here).
type labelSelector struct {
	MatchLabels map[string]string `json:"matchLabels"`
}

// matches reports whether a non-empty selector selects a set of labels.
func (s *labelSelector) matches(set map[string]string) bool {
	if s == nil || len(s.MatchLabels) == 0 {
		return false
	}
	for k, v := range s.MatchLabels {
		if set[k] != v {
			return false
		}
	}
	return true
}

// intOrString is intstr.IntOrString: a number or a name.
type intOrString struct {
	isStr  bool
	intVal int32
	strVal string
}

func (v *intOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		v.isStr = true
		return json.Unmarshal(b, &v.strVal)
	}
	return json.Unmarshal(b, &v.intVal)
}

func (v intOrString) String() string {
	if v.isStr {
		return v.strVal
	}
	return strconv.Itoa(int(v.intVal))
}

// quantity is resource.Quantity, kept as written and compared with quantityValue.
type quantity string

var quantitySuffixes = []struct {
	suffix string
	num    int64
	den    int64
}{
	{"Ki", 1 << 10, 1}, {"Mi", 1 << 20, 1}, {"Gi", 1 << 30, 1}, {"Ti", 1 << 40, 1},
	{"k", 1e3, 1}, {"M", 1e6, 1}, {"G", 1e9, 1}, {"T", 1e12, 1}, {"m", 1, 1000},
}

// quantityValue is the exact value of a quantity ("250m" = 1/4, "128Mi" = 134217728).
func quantityValue(t *testing.T, q quantity) *big.Rat {
	t.Helper()
	s := string(q)
	num, den := int64(1), int64(1)
	for _, u := range quantitySuffixes {
		if strings.HasSuffix(s, u.suffix) {
			s, num, den = strings.TrimSuffix(s, u.suffix), u.num, u.den
			break
		}
	}
	r, ok := new(big.Rat).SetString(s)
	require.True(t, ok, "quantity %q", string(q))
	return r.Mul(r, big.NewRat(num, den))
}

type serviceAccount struct {
	typeMeta
	Metadata                     objectMeta `json:"metadata"`
	AutomountServiceAccountToken *bool      `json:"automountServiceAccountToken"`
}

type configMap struct {
	typeMeta
	Metadata objectMeta        `json:"metadata"`
	Data     map[string]string `json:"data"`
}

type secret struct {
	typeMeta
	Metadata   objectMeta        `json:"metadata"`
	Type       string            `json:"type"`
	Data       map[string]string `json:"data"`
	StringData map[string]string `json:"stringData"`
}

type keySelector struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Optional *bool  `json:"optional"`
}

type envVar struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	ValueFrom *struct {
		ConfigMapKeyRef *keySelector `json:"configMapKeyRef"`
		SecretKeyRef    *keySelector `json:"secretKeyRef"`
	} `json:"valueFrom"`
}

type probe struct {
	HTTPGet *struct {
		Path   string      `json:"path"`
		Port   intOrString `json:"port"`
		Scheme string      `json:"scheme"`
	} `json:"httpGet"`
	InitialDelaySeconds int32 `json:"initialDelaySeconds"`
	PeriodSeconds       int32 `json:"periodSeconds"`
	TimeoutSeconds      int32 `json:"timeoutSeconds"`
	SuccessThreshold    int32 `json:"successThreshold"`
	FailureThreshold    int32 `json:"failureThreshold"`
}

type seccompProfile struct {
	Type string `json:"type"`
}

type container struct {
	Name            string `json:"name"`
	Image           string `json:"image"`
	ImagePullPolicy string `json:"imagePullPolicy"`
	Ports           []struct {
		Name          string `json:"name"`
		ContainerPort int32  `json:"containerPort"`
		Protocol      string `json:"protocol"`
	} `json:"ports"`
	Env       []envVar          `json:"env"`
	EnvFrom   []json.RawMessage `json:"envFrom"`
	Resources struct {
		Requests map[string]quantity `json:"requests"`
		Limits   map[string]quantity `json:"limits"`
	} `json:"resources"`
	StartupProbe   *probe `json:"startupProbe"`
	ReadinessProbe *probe `json:"readinessProbe"`
	LivenessProbe  *probe `json:"livenessProbe"`
	Lifecycle      *struct {
		PreStop *struct {
			Sleep *struct {
				Seconds int64 `json:"seconds"`
			} `json:"sleep"`
		} `json:"preStop"`
	} `json:"lifecycle"`
	SecurityContext *struct {
		RunAsNonRoot             *bool  `json:"runAsNonRoot"`
		RunAsUser                *int64 `json:"runAsUser"`
		AllowPrivilegeEscalation *bool  `json:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool  `json:"readOnlyRootFilesystem"`
		Privileged               *bool  `json:"privileged"`
		Capabilities             *struct {
			Add  []string `json:"add"`
			Drop []string `json:"drop"`
		} `json:"capabilities"`
		SeccompProfile *seccompProfile `json:"seccompProfile"`
	} `json:"securityContext"`
	VolumeMounts []struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
	} `json:"volumeMounts"`
}

type podSpec struct {
	ServiceAccountName            string `json:"serviceAccountName"`
	AutomountServiceAccountToken  *bool  `json:"automountServiceAccountToken"`
	EnableServiceLinks            *bool  `json:"enableServiceLinks"`
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds"`
	HostNetwork                   bool   `json:"hostNetwork"`
	HostPID                       bool   `json:"hostPID"`
	HostIPC                       bool   `json:"hostIPC"`
	SecurityContext               *struct {
		RunAsNonRoot   *bool           `json:"runAsNonRoot"`
		RunAsUser      *int64          `json:"runAsUser"`
		RunAsGroup     *int64          `json:"runAsGroup"`
		SeccompProfile *seccompProfile `json:"seccompProfile"`
	} `json:"securityContext"`
	TopologySpreadConstraints []struct {
		MaxSkew           int32          `json:"maxSkew"`
		TopologyKey       string         `json:"topologyKey"`
		WhenUnsatisfiable string         `json:"whenUnsatisfiable"`
		LabelSelector     *labelSelector `json:"labelSelector"`
		MatchLabelKeys    []string       `json:"matchLabelKeys"`
	} `json:"topologySpreadConstraints"`
	Containers []container `json:"containers"`
	Volumes    []struct {
		Name     string `json:"name"`
		EmptyDir *struct {
			SizeLimit *quantity `json:"sizeLimit"`
		} `json:"emptyDir"`
	} `json:"volumes"`
}

type deployment struct {
	typeMeta
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Replicas             *int32         `json:"replicas"`
		RevisionHistoryLimit *int32         `json:"revisionHistoryLimit"`
		Selector             *labelSelector `json:"selector"`
		Strategy             struct {
			Type          string `json:"type"`
			RollingUpdate *struct {
				MaxUnavailable *intOrString `json:"maxUnavailable"`
				MaxSurge       *intOrString `json:"maxSurge"`
			} `json:"rollingUpdate"`
		} `json:"strategy"`
		Template struct {
			Metadata objectMeta `json:"metadata"`
			Spec     podSpec    `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

type service struct {
	typeMeta
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		Type     string            `json:"type"`
		Selector map[string]string `json:"selector"`
		Ports    []struct {
			Name       string      `json:"name"`
			Port       int32       `json:"port"`
			TargetPort intOrString `json:"targetPort"`
			Protocol   string      `json:"protocol"`
		} `json:"ports"`
	} `json:"spec"`
}

type hpa struct {
	typeMeta
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicas *int32 `json:"minReplicas"`
		MaxReplicas int32  `json:"maxReplicas"`
		Metrics     []struct {
			Type     string `json:"type"`
			Resource *struct {
				Name   string `json:"name"`
				Target struct {
					Type               string `json:"type"`
					AverageUtilization *int32 `json:"averageUtilization"`
				} `json:"target"`
			} `json:"resource"`
		} `json:"metrics"`
		Behavior *struct {
			ScaleDown *struct {
				StabilizationWindowSeconds *int32 `json:"stabilizationWindowSeconds"`
				Policies                   []struct {
					Type          string `json:"type"`
					Value         int32  `json:"value"`
					PeriodSeconds int32  `json:"periodSeconds"`
				} `json:"policies"`
			} `json:"scaleDown"`
		} `json:"behavior"`
	} `json:"spec"`
}

type pdb struct {
	typeMeta
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		MinAvailable               *intOrString   `json:"minAvailable"`
		MaxUnavailable             *intOrString   `json:"maxUnavailable"`
		Selector                   *labelSelector `json:"selector"`
		UnhealthyPodEvictionPolicy *string        `json:"unhealthyPodEvictionPolicy"`
	} `json:"spec"`
}

type networkPolicyPeer struct {
	PodSelector       *labelSelector `json:"podSelector"`
	NamespaceSelector *labelSelector `json:"namespaceSelector"`
	IPBlock           *struct {
		CIDR   string   `json:"cidr"`
		Except []string `json:"except"`
	} `json:"ipBlock"`
}

type networkPolicyPort struct {
	Protocol *string      `json:"protocol"`
	Port     *intOrString `json:"port"`
	EndPort  *int32       `json:"endPort"`
}

type networkPolicy struct {
	typeMeta
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		PodSelector labelSelector `json:"podSelector"`
		PolicyTypes []string      `json:"policyTypes"`
		Ingress     []struct {
			From  []networkPolicyPeer `json:"from"`
			Ports []networkPolicyPort `json:"ports"`
		} `json:"ingress"`
		Egress []struct {
			To    []networkPolicyPeer `json:"to"`
			Ports []networkPolicyPort `json:"ports"`
		} `json:"egress"`
	} `json:"spec"`
}

type ingress struct {
	typeMeta
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		IngressClassName *string `json:"ingressClassName"`
		TLS              []struct {
			Hosts      []string `json:"hosts"`
			SecretName string   `json:"secretName"`
		} `json:"tls"`
		Rules []struct {
			Host string `json:"host"`
			HTTP *struct {
				Paths []struct {
					Path     string `json:"path"`
					PathType string `json:"pathType"`
					Backend  struct {
						Service *struct {
							Name string `json:"name"`
							Port struct {
								Name   string `json:"name"`
								Number int32  `json:"number"`
							} `json:"port"`
						} `json:"service"`
					} `json:"backend"`
				} `json:"paths"`
			} `json:"http"`
		} `json:"rules"`
	} `json:"spec"`
}

// kustomization is the part of kustomize's Kustomization that k8s/kustomization.yaml uses.
type kustomization struct {
	typeMeta
	Resources []string `json:"resources"`
	Images    []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// ---- loading ----

// object is what every manifest has: its kind and metadata.
type object interface {
	kindOf() typeMeta
	meta() objectMeta
}

func (o *serviceAccount) kindOf() typeMeta { return o.typeMeta }
func (o *serviceAccount) meta() objectMeta { return o.Metadata }
func (o *configMap) kindOf() typeMeta      { return o.typeMeta }
func (o *configMap) meta() objectMeta      { return o.Metadata }
func (o *secret) kindOf() typeMeta         { return o.typeMeta }
func (o *secret) meta() objectMeta         { return o.Metadata }
func (o *deployment) kindOf() typeMeta     { return o.typeMeta }
func (o *deployment) meta() objectMeta     { return o.Metadata }
func (o *service) kindOf() typeMeta        { return o.typeMeta }
func (o *service) meta() objectMeta        { return o.Metadata }
func (o *hpa) kindOf() typeMeta            { return o.typeMeta }
func (o *hpa) meta() objectMeta            { return o.Metadata }
func (o *pdb) kindOf() typeMeta            { return o.typeMeta }
func (o *pdb) meta() objectMeta            { return o.Metadata }
func (o *networkPolicy) kindOf() typeMeta  { return o.typeMeta }
func (o *networkPolicy) meta() objectMeta  { return o.Metadata }
func (o *ingress) kindOf() typeMeta        { return o.typeMeta }
func (o *ingress) meta() objectMeta        { return o.Metadata }

// manifests are the files in k8s/ with the object each must decode into. Files ending in
// .example.yaml are examples, not applied by the kustomization.
var manifests = map[string]struct {
	apiVersion, kind string
	new              func() object
}{
	"serviceaccount.yaml":  {"v1", "ServiceAccount", func() object { return &serviceAccount{} }},
	"configmap.yaml":       {"v1", "ConfigMap", func() object { return &configMap{} }},
	"deployment.yaml":      {"apps/v1", "Deployment", func() object { return &deployment{} }},
	"service.yaml":         {"v1", "Service", func() object { return &service{} }},
	"hpa.yaml":             {"autoscaling/v2", "HorizontalPodAutoscaler", func() object { return &hpa{} }},
	"pdb.yaml":             {"policy/v1", "PodDisruptionBudget", func() object { return &pdb{} }},
	"networkpolicy.yaml":   {"networking.k8s.io/v1", "NetworkPolicy", func() object { return &networkPolicy{} }},
	"secret.example.yaml":  {"v1", "Secret", func() object { return &secret{} }},
	"ingress.example.yaml": {"networking.k8s.io/v1", "Ingress", func() object { return &ingress{} }},
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
	sa     *serviceAccount
	cm     *configMap
	dep    *deployment
	svc    *service
	hpa    *hpa
	pdb    *pdb
	np     *networkPolicy
	secret *secret
	ing    *ingress
}

func load(t *testing.T) cluster {
	t.Helper()
	return cluster{
		sa:     decodeAs[serviceAccount](t, "serviceaccount.yaml"),
		cm:     decodeAs[configMap](t, "configmap.yaml"),
		dep:    decodeAs[deployment](t, "deployment.yaml"),
		svc:    decodeAs[service](t, "service.yaml"),
		hpa:    decodeAs[hpa](t, "hpa.yaml"),
		pdb:    decodeAs[pdb](t, "pdb.yaml"),
		np:     decodeAs[networkPolicy](t, "networkpolicy.yaml"),
		secret: decodeAs[secret](t, "secret.example.yaml"),
		ing:    decodeAs[ingress](t, "ingress.example.yaml"),
	}
}

// podLabels are the labels of the Deployment's pods.
func (c cluster) podLabels() map[string]string { return c.dep.Spec.Template.Metadata.Labels }

// container is the API container.
func (c cluster) container(t *testing.T) container {
	t.Helper()
	cs := c.dep.Spec.Template.Spec.Containers
	require.Len(t, cs, 1, "one container")
	return cs[0]
}

// containerPort resolves a named or numbered port of the API container.
func (c cluster) containerPort(t *testing.T, p intOrString) int32 {
	t.Helper()
	if !p.isStr {
		return p.intVal
	}
	for _, cp := range c.container(t).Ports {
		if cp.Name == p.strVal {
			return cp.ContainerPort
		}
	}
	t.Fatalf("the container has no port named %q", p.strVal)
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

// ---- tests ----

// TestManifestsDecodeStrictly decodes every file in k8s/ and checks its kind, that it names no
// namespace, and that it carries the app label.
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
		assert.Equal(t, typeMeta{m.apiVersion, m.kind}, obj.kindOf(), "%s apiVersion and kind", name)
		assert.NotEmpty(t, obj.meta().Name, "%s has a name", name)
		assert.Empty(t, obj.meta().Namespace, "%s is namespace-agnostic", name)
		assert.Equal(t, "capmatch", obj.meta().Labels["app.kubernetes.io/name"], "%s is labelled", name)
	}
	for name := range manifests {
		assert.FileExists(t, filepath.Join(k8sDir, name))
	}
}

// TestStrictDecodingRejectsTypos shows that the decoding above catches a misspelt or repeated field.
func TestStrictDecodingRejectsTypos(t *testing.T) {
	var d deployment
	err := yaml.UnmarshalStrict([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replica: 3\n"), &d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "replica")
	err = yaml.UnmarshalStrict([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: x\n          readinesProbe: {}\n"), &d)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "readinesProbe")
	assert.Error(t, yaml.UnmarshalStrict([]byte("kind: Deployment\nkind: Deployment\n"), &d), "duplicate fields")

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
	assert.Equal(t, typeMeta{"kustomize.config.k8s.io/v1beta1", "Kustomization"}, k.typeMeta)

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
	assert.Equal(t, port, c.containerPort(t, intOrString{isStr: true, strVal: "http"}), "the http port is CAPMATCH_ADDR's")

	for _, p := range []struct {
		name  string
		probe *probe
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
		assert.Contains(t, []string{"", "HTTP"}, p.probe.HTTPGet.Scheme, "%s probe scheme", p.name)
	}
	// /readyz waits up to 1 s for MongoDB and Redis.
	assert.Greater(t, ctr.ReadinessProbe.TimeoutSeconds, int32(1), "readiness timeout above /readyz's own 1 s")
	// Start-up loads the read model before listening.
	s := ctr.StartupProbe
	assert.GreaterOrEqual(t, s.PeriodSeconds*s.FailureThreshold, int32(60), "start-up gets at least a minute")
}

// TestDeploymentResources: requests and limits for CPU and memory, sized from the measured RSS,
// and GOMEMLIMIT between the memory request and limit.
func TestDeploymentResources(t *testing.T) {
	c := load(t)
	ctr := c.container(t)
	for _, r := range []string{"cpu", "memory"} {
		req, ok := ctr.Resources.Requests[r]
		require.True(t, ok, "%s request", r)
		lim, ok := ctr.Resources.Limits[r]
		require.True(t, ok, "%s limit", r)
		assert.LessOrEqual(t, quantityValue(t, req).Cmp(quantityValue(t, lim)), 0, "%s request <= limit", r)
	}
	memReq := quantityValue(t, ctr.Resources.Requests["memory"])
	memLim := quantityValue(t, ctr.Resources.Limits["memory"])
	assert.Equal(t, 1, memReq.Cmp(quantityValue(t, measuredIdleRSS)), "memory request above the measured idle RSS")

	var goMemLimit string
	for _, e := range ctr.Env {
		if e.Name == "GOMEMLIMIT" {
			goMemLimit = e.Value
		}
	}
	require.NotEmpty(t, goMemLimit, "GOMEMLIMIT is set")
	n, err := parseGoMemLimit(goMemLimit)
	require.NoError(t, err)
	assert.Equal(t, -1, new(big.Rat).SetInt64(n).Cmp(memLim), "GOMEMLIMIT (%d) below the memory limit", n)
	assert.Equal(t, 1, new(big.Rat).SetInt64(n).Cmp(memReq), "GOMEMLIMIT (%d) above the memory request", n)
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

func TestQuantityAndMemLimitParsing(t *testing.T) {
	for q, want := range map[quantity]*big.Rat{
		"250m": big.NewRat(1, 4), "1": big.NewRat(1, 1), "128Mi": big.NewRat(128<<20, 1), "1G": big.NewRat(1e9, 1),
	} {
		assert.Zero(t, quantityValue(t, q).Cmp(want), "%s", q)
	}
	n, err := parseGoMemLimit("400MiB")
	require.NoError(t, err)
	assert.Equal(t, int64(400<<20), n)
	_, err = parseGoMemLimit("400Mi")
	assert.Error(t, err, "Go wants MiB, not Kubernetes' Mi")
}

// TestDeploymentSecurity: non-root, read-only root filesystem, no capabilities, RuntimeDefault
// seccomp, no service-account token, no injected service variables.
func TestDeploymentSecurity(t *testing.T) {
	c := load(t)
	pod := c.dep.Spec.Template.Spec
	ctr := c.container(t)
	psc := pod.SecurityContext
	require.NotNil(t, psc, "pod securityContext")
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
	assert.Equal(t, "RuntimeDefault", seccomp.Type)

	require.NotNil(t, csc.ReadOnlyRootFilesystem)
	assert.True(t, *csc.ReadOnlyRootFilesystem, "readOnlyRootFilesystem")
	require.NotNil(t, csc.AllowPrivilegeEscalation)
	assert.False(t, *csc.AllowPrivilegeEscalation, "allowPrivilegeEscalation")
	assert.True(t, csc.Privileged == nil || !*csc.Privileged, "not privileged")
	require.NotNil(t, csc.Capabilities)
	assert.Equal(t, []string{"ALL"}, csc.Capabilities.Drop, "drop all capabilities")
	assert.Empty(t, csc.Capabilities.Add)

	assert.False(t, pod.HostNetwork || pod.HostPID || pod.HostIPC)
	assert.Equal(t, c.sa.Metadata.Name, pod.ServiceAccountName)
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
	secretRefs := map[string]*keySelector{}
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
			assert.Equal(t, c.cm.Metadata.Name, r.Name, "%s from the ConfigMap", e.Name)
			assert.Equal(t, e.Name, r.Key, "%s from the key of the same name", e.Name)
			_, ok := c.cm.Data[r.Key]
			assert.True(t, ok, "the ConfigMap has %s", r.Key)
			fromConfig[e.Name] = true
		case e.ValueFrom.SecretKeyRef != nil:
			r := e.ValueFrom.SecretKeyRef
			assert.Equal(t, c.secret.Metadata.Name, r.Name, "%s from the Secret", e.Name)
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

	require.NotNil(t, c.dep.Spec.Replicas)
	assert.Equal(t, int32(3), *c.dep.Spec.Replicas)
	assert.True(t, c.dep.Spec.Selector.matches(c.podLabels()), "the selector selects the pods")
	ru := c.dep.Spec.Strategy.RollingUpdate
	require.NotNil(t, ru)
	require.NotNil(t, ru.MaxUnavailable)
	assert.Equal(t, "0", ru.MaxUnavailable.String(), "rollouts add a replica before removing one")

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
		assert.True(t, tsc.LabelSelector.matches(c.podLabels()), "spread constraint on %s counts these pods", tsc.TopologyKey)
		assert.Equal(t, int32(1), tsc.MaxSkew)
	}
	assert.True(t, keys["kubernetes.io/hostname"], "spread over nodes")
	assert.True(t, keys["topology.kubernetes.io/zone"], "spread over zones")
}

// TestServiceHPAAndPDB: the Service and the PDB select the pods, the HPA scales the Deployment.
func TestServiceHPAAndPDB(t *testing.T) {
	c := load(t)
	port := c.listenPort(t)

	svcSel := &labelSelector{MatchLabels: c.svc.Spec.Selector}
	assert.True(t, svcSel.matches(c.podLabels()), "Service selects the pods")
	require.Len(t, c.svc.Spec.Ports, 1)
	assert.Equal(t, port, c.containerPort(t, c.svc.Spec.Ports[0].TargetPort), "Service targets the API port")

	ref := c.hpa.Spec.ScaleTargetRef
	assert.Equal(t, "apps/v1", ref.APIVersion)
	assert.Equal(t, "Deployment", ref.Kind)
	assert.Equal(t, c.dep.Metadata.Name, ref.Name, "HPA scales the Deployment")
	require.NotNil(t, c.hpa.Spec.MinReplicas)
	assert.Equal(t, *c.dep.Spec.Replicas, *c.hpa.Spec.MinReplicas, "HPA floor = Deployment replicas")
	assert.Greater(t, c.hpa.Spec.MaxReplicas, *c.hpa.Spec.MinReplicas)
	var cpu bool
	for _, m := range c.hpa.Spec.Metrics {
		if m.Type == "Resource" && m.Resource != nil && m.Resource.Name == "cpu" {
			cpu = m.Resource.Target.Type == "Utilization" && m.Resource.Target.AverageUtilization != nil
		}
	}
	assert.True(t, cpu, "HPA scales on CPU utilization")

	assert.True(t, c.pdb.Spec.Selector.matches(c.podLabels()), "PDB selects the pods")
	require.NotNil(t, c.pdb.Spec.MinAvailable, "PDB uses minAvailable")
	assert.Nil(t, c.pdb.Spec.MaxUnavailable)
	require.False(t, c.pdb.Spec.MinAvailable.isStr, "minAvailable is a count")
	minAvail := c.pdb.Spec.MinAvailable.intVal
	assert.GreaterOrEqual(t, minAvail, int32(1))
	assert.Less(t, minAvail, *c.hpa.Spec.MinReplicas, "drains can always evict one replica")

	require.NotEmpty(t, c.ing.Spec.Rules)
	require.NotNil(t, c.ing.Spec.Rules[0].HTTP)
	require.NotEmpty(t, c.ing.Spec.Rules[0].HTTP.Paths)
	b := c.ing.Spec.Rules[0].HTTP.Paths[0].Backend.Service
	require.NotNil(t, b)
	assert.Equal(t, c.svc.Metadata.Name, b.Name, "the Ingress example routes to the Service")
	assert.Equal(t, c.svc.Spec.Ports[0].Name, b.Port.Name)
}

// TestNetworkPolicy: ingress only from the ingress controller's namespace on the API port;
// egress only to MongoDB, Redis and DNS.
func TestNetworkPolicy(t *testing.T) {
	c := load(t)
	np := c.np.Spec
	assert.True(t, np.PodSelector.matches(c.podLabels()), "the policy applies to the pods")
	assert.ElementsMatch(t, []string{"Ingress", "Egress"}, np.PolicyTypes)

	portSet := func(ps []networkPolicyPort) []string {
		var out []string
		for _, p := range ps {
			require.NotNil(t, p.Port, "every rule names its port")
			assert.Nil(t, p.EndPort, "single ports, not ranges")
			proto := "TCP"
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			out = append(out, fmt.Sprintf("%s/%s", proto, p.Port))
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
