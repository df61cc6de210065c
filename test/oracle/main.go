// policy-oracle answers, with the containers/image library itself (go.podman.io/image/v5 at the
// version CRI-O requires), what `crio-sigpoc policy lint` and `policy explain` claim about a
// policy.json, a registries.d directory and image names. The differential test
// (test/unit/policy-oracle.test.ts) speaks to it over stdin/stdout, one JSON object a line.
//
// Request:  {"id": 1, "policy": "/path/policy.json", "registriesD": "/path/registries.d",
//            "registriesConf": "/path/registries.conf", "images": ["alpine", "quay.io/a/b@sha256:…"]}
//           {"id": 2, "op": "version"}
// Response: {"id": 1, "policy": {"error": "…"} | {}, "registriesD": {"error": "…"} | {},
//            "images": [{"image": …, "error"?: …, "reference", "identity", "namespaces",
//                        "scope"?: key | omitted for the default, "requirements": <library JSON>,
//                        "lookaside" | "lookasideError", "attachments"}]}
//
// How each answer is obtained:
//   - policy: signature.NewPolicyFromFile, the call CRI-O makes (exported).
//   - image names: shortnames.Resolve with the given registries.conf (exported), then what CRI-O's
//     internal/storage/references.RegistryImageReferenceFromRaw does (an internal package of CRI-O,
//     so not importable: a tag given together with a digest is dropped), then
//     docker.NewReference (exported); identity and namespaces are the reference's exported
//     PolicyConfigurationIdentity and PolicyConfigurationNamespaces.
//   - requirements: the library's own selection, (*signature.PolicyContext).requirementsForImageRef,
//     which is unexported and reached with go:linkname (below). The deciding scope is the key of
//     transports.docker whose requirement list is that very slice (same backing array), or the
//     default; the requirements are printed with the library's own JSON marshalling.
//   - lookaside: docker.SignatureStorageBaseURL with SystemContext.RegistriesDirPath (exported).
//   - registries.d as a whole and use-sigstore-attachments: the library's loader
//     loadRegistryConfiguration and its (*registryConfiguration).useSigstoreAttachments are
//     unexported and reached with go:linkname; no exported function tells whether attachments are
//     used for a reference. The linked signatures are those of the pinned version; a version that
//     renames them fails to link rather than answering wrongly.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime/debug"
	"unsafe"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/shortnames"
	"go.podman.io/image/v5/signature"
	_ "go.podman.io/image/v5/transports/alltransports" // CRI-O registers every transport the same way
	"go.podman.io/image/v5/types"
)

// registryConfiguration stands for the library's unexported type of the same name; only pointers
// to it are handled here, never its fields.
type registryConfiguration struct{}

// dockerReference has the layout of the library's unexported docker.dockerReference in v5.38.0
// (the reference.Named, then isUnknownDigest), which useSigstoreAttachments takes by value.
type dockerReference struct {
	ref             reference.Named
	isUnknownDigest bool //nolint:unused // false: a pull by name, tag or known digest
}

//go:linkname loadRegistryConfiguration go.podman.io/image/v5/docker.loadRegistryConfiguration
func loadRegistryConfiguration(sys *types.SystemContext) (*registryConfiguration, error)

//go:linkname useSigstoreAttachments go.podman.io/image/v5/docker.(*registryConfiguration).useSigstoreAttachments
func useSigstoreAttachments(config *registryConfiguration, ref dockerReference) bool

//go:linkname requirementsForImageRef go.podman.io/image/v5/signature.(*PolicyContext).requirementsForImageRef
func requirementsForImageRef(pc *signature.PolicyContext, ref types.ImageReference) signature.PolicyRequirements

type request struct {
	ID             int      `json:"id"`
	Op             string   `json:"op,omitempty"`
	Policy         string   `json:"policy,omitempty"`
	RegistriesD    string   `json:"registriesD,omitempty"`
	RegistriesConf string   `json:"registriesConf,omitempty"`
	Images         []string `json:"images,omitempty"`
}

type outcome struct {
	Error string `json:"error,omitempty"`
}

type imageAnswer struct {
	Image          string          `json:"image"`
	Error          string          `json:"error,omitempty"`
	Reference      string          `json:"reference,omitempty"`
	Identity       string          `json:"identity,omitempty"`
	Namespaces     []string        `json:"namespaces,omitempty"`
	Scope          *string         `json:"scope,omitempty"`
	Requirements   json.RawMessage `json:"requirements,omitempty"`
	Lookaside      string          `json:"lookaside,omitempty"`
	LookasideError string          `json:"lookasideError,omitempty"`
	Attachments    *bool           `json:"attachments,omitempty"`
}

type response struct {
	ID          int           `json:"id"`
	Error       string        `json:"error,omitempty"`
	Library     string        `json:"library,omitempty"`
	Version     string        `json:"version,omitempty"`
	Policy      *outcome      `json:"policy,omitempty"`
	RegistriesD *outcome      `json:"registriesD,omitempty"`
	Images      []imageAnswer `json:"images,omitempty"`
}

const libraryModule = "go.podman.io/image/v5"

func libraryVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, dep := range info.Deps {
		if dep.Path == libraryModule {
			if dep.Replace != nil {
				return dep.Replace.Version
			}
			return dep.Version
		}
	}
	return ""
}

func answer(req request) response {
	res := response{ID: req.ID}
	if req.Op == "version" {
		res.Library, res.Version = libraryModule, libraryVersion()
		return res
	}
	if req.Op != "" {
		res.Error = fmt.Sprintf("unknown op %q", req.Op)
		return res
	}
	sys := &types.SystemContext{
		RegistriesDirPath:           req.RegistriesD,
		SystemRegistriesConfPath:    req.RegistriesConf,
		SystemRegistriesConfDirPath: req.RegistriesConf + ".d",
	}
	var pc *signature.PolicyContext
	var policy *signature.Policy
	if req.Policy != "" {
		p, err := signature.NewPolicyFromFile(req.Policy)
		res.Policy = &outcome{}
		if err != nil {
			res.Policy.Error = err.Error()
		} else if pc, err = signature.NewPolicyContext(p); err != nil {
			res.Policy.Error = err.Error()
		} else {
			policy = p
			defer pc.Destroy() //nolint:errcheck // nothing to release for a parsed policy
		}
	}
	var config *registryConfiguration
	if req.RegistriesD != "" {
		c, err := loadRegistryConfiguration(sys)
		res.RegistriesD = &outcome{}
		if err != nil {
			res.RegistriesD.Error = err.Error()
		} else {
			config = c
		}
	}
	for _, image := range req.Images {
		res.Images = append(res.Images, explain(sys, policy, pc, config, image))
	}
	return res
}

func explain(sys *types.SystemContext, policy *signature.Policy, pc *signature.PolicyContext, config *registryConfiguration, image string) imageAnswer {
	a := imageAnswer{Image: image}
	resolved, err := shortnames.Resolve(sys, image)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	if len(resolved.PullCandidates) == 0 {
		a.Error = "no pull candidates"
		return a
	}
	named := resolved.PullCandidates[0].Value
	// CRI-O's RegistryImageReferenceFromRaw: a tag given together with a digest is dropped.
	if digested, ok := named.(reference.Digested); ok {
		if _, tagged := named.(reference.Tagged); tagged {
			if named, err = reference.WithDigest(reference.TrimNamed(named), digested.Digest()); err != nil {
				a.Error = err.Error()
				return a
			}
		}
	}
	ref, err := docker.NewReference(named)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	a.Reference = ref.DockerReference().String()
	a.Identity = ref.PolicyConfigurationIdentity()
	a.Namespaces = ref.PolicyConfigurationNamespaces()
	if pc != nil {
		reqs := requirementsForImageRef(pc, ref)
		a.Scope = decidingScope(policy, reqs)
		if a.Requirements, err = json.Marshal(reqs); err != nil {
			a.Error = err.Error()
		}
	}
	if config != nil {
		on := useSigstoreAttachments(config, dockerReference{ref: ref.DockerReference(), isUnknownDigest: false})
		a.Attachments = &on
		if u, err := docker.SignatureStorageBaseURL(sys, ref, false); err != nil {
			a.LookasideError = err.Error()
		} else {
			a.Lookaside = u.String()
		}
	}
	return a
}

// decidingScope names the transports.docker key whose requirement list the library selected
// (the same slice, not an equal one), or nil when it selected the default.
func decidingScope(policy *signature.Policy, reqs signature.PolicyRequirements) *string {
	if len(reqs) == 0 || unsafe.SliceData(reqs) == unsafe.SliceData(policy.Default) {
		return nil
	}
	for key, candidate := range policy.Transports["docker"] {
		if unsafe.SliceData(candidate) == unsafe.SliceData(reqs) {
			return &key
		}
	}
	unknown := "<not a transports.docker key>"
	return &unknown
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var req request
		res := response{}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			res.Error = "request is not JSON: " + err.Error()
		} else {
			res = answer(req)
		}
		if err := enc.Encode(res); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		if err := out.Flush(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
}
