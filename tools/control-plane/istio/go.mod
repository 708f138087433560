module github.com/airyhq/airy-infrastructure/tools/control-plane/istio

// Not built: only its CustomResourceDefinitions are read (kubernetes/customresourcedefinitions.gen.yaml), verified
// against go.sum. Istio tags its API module v1.24.2 but not v1.24.3, the box's Istio: the nearest served release.
go 1.22.0

require istio.io/api v1.24.2
