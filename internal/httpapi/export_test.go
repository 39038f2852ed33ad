package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// OpenAPIDocument is the embedded document, for the tests of package httpapi_test.
var OpenAPIDocument = openapiDoc

// Route is one method and path pattern of the router (gin's syntax: /scans/:id).
type Route struct{ Method, Path string }

// RoutesOf lists the routes of a handler New returned.
func RoutesOf(h http.Handler) []Route {
	var out []Route
	for _, r := range h.(*gin.Engine).Routes() {
		out = append(out, Route{r.Method, r.Path})
	}
	return out
}
