/** The model every module shares: immutable records with Flocker v1's JSON names, validated on construction. */
package dev.flocker.api.model;
