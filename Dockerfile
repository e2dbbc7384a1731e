# syntax=docker/dockerfile:1
# Multi-stage build of the decom console. mattn/go-sqlite3 needs cgo, so the
# build stage has gcc and the runtime stage is glibc (Debian), not Alpine.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Generated templ code is committed, so no templ step is needed here.
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/decom ./cmd/web

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/decom --create-home decom
COPY --from=build /out/decom /usr/local/bin/decom
USER decom
WORKDIR /var/lib/decom
VOLUME ["/var/lib/decom/data"]
ENV DECOM_LISTEN=0.0.0.0:8080 \
    DECOM_DATA=/var/lib/decom/data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD ["decom", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/decom"]
CMD ["serve"]
