package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openapiDoc is the OpenAPI 3.1 document of the API (every route New registers under /api/v1,
// and /healthz, /readyz and /metrics), served at /api/v1/openapi.json. The package's tests
// keep it true: every route of the router is documented and every documented operation is a
// route, and every answer of the API tests is validated against it.
//
//go:embed openapi.json
var openapiDoc []byte

// serveOpenAPI answers the document. It needs no authentication: it describes the public
// interface (as the README does) and holds no data.
func serveOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/json; charset=utf-8", openapiDoc)
}
