# Build: a static binary (FerretDB's SQLite backend is pure Go, so no cgo is needed).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/dutycheck ./cmd/dutycheck

# Run: the binary, the sample fixtures, nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dutycheck /usr/local/bin/dutycheck
COPY --from=build /src/fixtures /fixtures
EXPOSE 8080
VOLUME /home/nonroot/data
ENTRYPOINT ["/usr/local/bin/dutycheck"]
# Set MONGODB_URI to use a MongoDB server instead of the embedded store under /home/nonroot/data.
CMD ["serve", "--addr", "0.0.0.0:8080", "--data", "/home/nonroot/data"]
