// Package test checks what deploy/ ships, with no cluster and no server:
// it renders and lints the Helm chart (deploy/helm/onbehalf) with Helm's
// own packages and checks the rendered objects, checks that the Grafana
// dashboard and the alert rules query only metrics the server exports,
// and checks compose.yaml's wiring.
//
// It is a module of its own so that Helm and its Kubernetes dependencies
// stay out of the server's go.mod: run it with
//
//	cd deploy/helm/test && go test ./...
package test
