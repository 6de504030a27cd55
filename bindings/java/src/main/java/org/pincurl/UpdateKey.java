package org.pincurl;

import java.util.Arrays;

/** An Ed25519 verification key an {@link Updater} trusts: a key id and 32 bytes. */
public final class UpdateKey {
    private final String keyId;
    private final byte[] publicKey;

    /** keyId: 1-64 characters of A-Z a-z 0-9 . _ - as in the bundles it signs. */
    public UpdateKey(String keyId, byte[] publicKey) {
        if (keyId == null || publicKey == null) {
            throw new NullPointerException("keyId and publicKey are required");
        }
        if (publicKey.length != 32) {
            throw new IllegalArgumentException("an Ed25519 public key has 32 bytes");
        }
        this.keyId = keyId;
        this.publicKey = publicKey.clone();
    }

    /** A key named by its default key id (16 hex digits of its SHA-256). */
    public static UpdateKey of(byte[] publicKey) {
        return new UpdateKey(defaultKeyId(publicKey), publicKey);
    }

    /** The default key id of a public key: the first 8 bytes of its SHA-256, in hex. */
    public static String defaultKeyId(byte[] publicKey) {
        String id = Jni.str(PincurlNative.jni_update_key_id_default(publicKey));
        if (id == null) {
            throw new IllegalArgumentException("not a usable Ed25519 public key");
        }
        return id;
    }

    public String keyId() {
        return keyId;
    }

    public byte[] publicKey() {
        return publicKey.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UpdateKey && ((UpdateKey) o).keyId.equals(keyId)
            && Arrays.equals(((UpdateKey) o).publicKey, publicKey);
    }

    @Override
    public int hashCode() {
        return keyId.hashCode() * 31 + Arrays.hashCode(publicKey);
    }
}
