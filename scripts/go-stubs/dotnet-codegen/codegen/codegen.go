// Package codegen stands in for the C# code generator: only the schema metadata struct.
package codegen

// CSharpPackageInfo is the "csharp" entry of a provider schema's language map.
type CSharpPackageInfo struct {
	RespectSchemaVersion bool              `json:"respectSchemaVersion,omitempty"`
	PackageReferences    map[string]string `json:"packageReferences,omitempty"`
}
