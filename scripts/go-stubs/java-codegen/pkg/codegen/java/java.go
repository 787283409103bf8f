// Package java stands in for the Java code generator: only the schema metadata struct.
package java

// PackageInfo is the "java" entry of a provider schema's language map.
type PackageInfo struct {
	BuildFiles                      string            `json:"buildFiles,omitempty"`
	GradleNexusPublishPluginVersion string            `json:"gradleNexusPublishPluginVersion,omitempty"`
	Dependencies                    map[string]string `json:"dependencies,omitempty"`
}
