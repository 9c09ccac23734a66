// The distribution's default behaviour: every path outside avatars/* is
// answered 404 here, at the edge, and never reaches the bucket (infra/cdn.tf).
function handler(event) {
  return { statusCode: 404, statusDescription: "Not Found" };
}
