# Build: a static binary (FerretDB's SQLite backend is pure Go, so no cgo is needed). The Go
# version is go.mod's, pinned.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/dutycheck ./cmd/dutycheck
# The data folder, owned by the image's non-root user (uid 65532), so that the volume Docker
# creates from it is writable by the service.
RUN mkdir -p /out/data && chown 65532:65532 /out/data && chmod 0700 /out/data

# Run: the binary, the sample fixtures, the data folder, nothing else. distroless/static carries
# the time zone database: set TZ (e.g. -e TZ=Asia/Shanghai) for local times and scheduled scans.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dutycheck /usr/local/bin/dutycheck
COPY --from=build /src/fixtures /fixtures
COPY --from=build --chown=65532:65532 /out/data /home/nonroot/data
ENV TZ=UTC
USER 65532:65532
EXPOSE 8080
VOLUME /home/nonroot/data
ENTRYPOINT ["/usr/local/bin/dutycheck"]
# Set MONGODB_URI to use a MongoDB server instead of the embedded store under /home/nonroot/data.
CMD ["serve", "--addr", "0.0.0.0:8080", "--data", "/home/nonroot/data"]
