// Command kube-controller-manager runs the Kubernetes controllers (deployments, replica sets,
// quotas, namespaces, garbage collection...) of the release pinned in go.mod.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones without a system zoneinfo

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // --logging-format=json
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
