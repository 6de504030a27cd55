package org.pincurl;

import java.util.Arrays;
import java.util.Date;

import javax.annotation.Nullable;

/**
 * An Ed25519 signing key for policy update bundles (docs/updates.md): the publisher's side.
 * Holds the private key in memory; {@link #close()} wipes it.
 */
public final class UpdateSigningKey implements AutoCloseable {
    private final String keyId;
    private final byte[] privateKey;
    private final byte[] publicKey;

    private UpdateSigningKey(String keyId, byte[] privateKey, byte[] publicKey) {
        this.keyId = keyId;
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /** A new key pair from wolfCrypt's random number generator, with its default key id. */
    public static UpdateSigningKey generate() throws PincurlException {
        byte[] priv = new byte[32];
        byte[] pub = new byte[32];
        PincurlException.check(PincurlNative.pincurl_update_keygen(priv, pub), "key generation");
        return new UpdateSigningKey(UpdateKey.defaultKeyId(pub), priv, pub);
    }

    /** A key from its 32 private bytes (copied); keyId null: the default key id. */
    public static UpdateSigningKey fromPrivateKey(@Nullable String keyId, byte[] privateKey)
        throws PincurlException {
        if (privateKey == null || privateKey.length != 32) {
            throw new IllegalArgumentException("an Ed25519 private key has 32 bytes");
        }
        byte[] priv = privateKey.clone();
        byte[] pub = new byte[32];
        PincurlException.check(PincurlNative.pincurl_update_public_key(priv, pub), "public key");
        return new UpdateSigningKey(keyId != null ? keyId : UpdateKey.defaultKeyId(pub), priv, pub);
    }

    public String keyId() {
        return keyId;
    }

    /** The verification key applications ship. */
    public UpdateKey verificationKey() {
        return new UpdateKey(keyId, publicKey);
    }

    /** A copy of the private key. */
    public byte[] privateKey() {
        return privateKey.clone();
    }

    /**
     * Signs a policy document (its bytes are kept exactly; load it with
     * {@link Policy#fromJson(byte[])} first to validate it) into a bundle valid from
     * notBefore to expires. sequence must grow with every bundle.
     */
    public byte[] sign(byte[] policyJson, long sequence, Date notBefore, Date expires)
        throws PincurlException {
        if (policyJson == null || notBefore == null || expires == null) {
            throw new NullPointerException("policy, notBefore and expires are required");
        }
        Object[] out = new Object[1];
        PincurlException.check(PincurlNative.jni_update_sign(policyJson, keyId, sequence,
            notBefore.getTime() / 1000L, expires.getTime() / 1000L, privateKey, out), "sign");
        return (byte[]) out[0];
    }

    /** Wipes the private key. */
    @Override
    public void close() {
        Arrays.fill(privateKey, (byte) 0);
    }
}
