package dev.flocker.control.api;

import java.util.List;

/** An error answer in Flocker's shape: {@code {"description": ...}}, plus {@code errors} for schema failures. */
public final class ApiError extends RuntimeException {
    public static final String SCHEMA = "The provided JSON doesn't match the required schema.";

    private final int status;
    private final List<String> errors;

    public ApiError(int status, String description) {
        this(status, description, null);
    }

    public ApiError(int status, String description, List<String> errors) {
        super(description);
        this.status = status;
        this.errors = errors == null ? null : List.copyOf(errors);
    }

    public static ApiError schema(List<String> errors) {
        return new ApiError(400, SCHEMA, errors);
    }

    public int status() {
        return status;
    }

    public List<String> errors() {
        return errors;
    }

    // Flocker's texts, kept exact: clients match on them.
    public static ApiError datasetNotFound() {
        return new ApiError(404, "Dataset not found.");
    }

    public static ApiError datasetDeleted() {
        return new ApiError(405, "The dataset has been deleted.");
    }

    public static ApiError datasetIdCollision() {
        return new ApiError(409, "The provided dataset_id is already in use.");
    }

    public static ApiError leaseNotFound() {
        return new ApiError(404, "Lease not found.");
    }

    public static ApiError leaseHeld() {
        return new ApiError(409, "Lease already held.");
    }

    public static ApiError nodeByEraNotFound() {
        return new ApiError(404, "No node found with given era.");
    }

    public static ApiError containerNotFound() {
        return new ApiError(404, "Container not found.");
    }

    public static ApiError containerNameCollision() {
        return new ApiError(409, "The container name already exists.");
    }

    public static ApiError containerPortCollision() {
        return new ApiError(409, "A specified external port is already in use.");
    }

    public static ApiError linkPortCollision() {
        return new ApiError(409, "The local ports in a container's links must be unique.");
    }

    public static ApiError linkAliasCollision() {
        return new ApiError(409, "The link aliases in a container must be unique.");
    }

    public static ApiError datasetOnDifferentNode() {
        return new ApiError(409, "The dataset is on another node.");
    }

    public static ApiError datasetInUse() {
        return new ApiError(409, "The dataset is being used by another container.");
    }
}
