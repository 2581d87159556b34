# Gatehouse container image.
#   docker build -t gatehouse .
# Runs as the unprivileged "node" user, listens on 8080 (HTTP unless TLS_CERT_FILE
# and TLS_KEY_FILE are set). Configuration comes from the environment: see
# docker/README.md and docker-compose.yml.

# ---- shared base of the stages that install packages ----------------------
FROM node:20-bookworm-slim AS deps
# argon2's prebuilt binaries need Node-API 10 (Node 22 and newer); Node 20 has
# Node-API 9 and cannot load them, so argon2 is compiled from source. The
# compiler stays in these stages; the runtime image only gets the result.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# node-gyp takes the Node headers shipped in the image instead of downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./

# ---- build: all dependencies, compile TypeScript to dist/ -------------------
FROM deps AS build
# Install scripts stay off, as package.json's allowScripts says. The compiler
# (tsc) needs no native module.
RUN npm ci --ignore-scripts
COPY . .
# mkdir: git keeps no empty folder, and the runtime stage copies policies/.
RUN npm run build \
 && mkdir -p policies

# ---- production dependencies only --------------------------------------------
FROM deps AS prod-deps
# Install scripts off (allowScripts); argon2 is the one package that must be
# built (see above).
RUN npm ci --omit=dev --ignore-scripts \
 && npm rebuild argon2

# ---- runtime ----------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Root owns the application files; the node user can read them but not change them.
# package.json is needed at run time too: its "type": "module" makes dist/ ES modules.
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
# dist/ holds the server (dist/src), the CLI (dist/src/cli) and the migrations
# (dist/migrations).
COPY --from=build /app/dist ./dist
# The console's own style sheet and script (read at start, not compiled).
COPY --from=build /app/src/console/assets ./src/console/assets
COPY --from=build /app/policies ./policies
# The embedded PGlite database (used when DATABASE_URL is unset) lives in
# GATEHOUSE_DATA_DIR, default ./data: mount a volume on /app/data to keep it.
RUN mkdir -p /app/data \
 && chown node:node /app/data

USER node
EXPOSE 8080

# Readiness (database reachable, policy set loaded). Plain HTTP on 127.0.0.1:
# when TLS is on, or HOST is not 0.0.0.0, override this healthcheck.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health/ready', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]

CMD ["node", "dist/src/main.js"]
