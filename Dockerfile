# syntax=docker/dockerfile:1
# The tenancy service: built in one stage, run from another that holds only the compiled code and
# the production dependencies. See docs/deploying.md (this recipe has not been built where it was
# written: that machine has no container engine).

FROM node:20.19-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY projections ./projections
RUN npm run build

FROM node:20.19-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    TENANCY_DATA_DIR=/var/lib/tenancy
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# The same list as "files" in package.json: what a deployment consists of.
COPY bin ./bin
COPY migrations ./migrations
COPY schemas ./schemas
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/projections ./dist/projections
RUN mkdir -p /var/lib/tenancy && chown node:node /var/lib/tenancy
USER node
VOLUME ["/var/lib/tenancy"]
EXPOSE 3000
# node itself is PID 1 (exec form, no npm or shell in between), so SIGTERM from the orchestrator
# reaches the service's own shutdown.
CMD ["node", "dist/src/main.js"]
