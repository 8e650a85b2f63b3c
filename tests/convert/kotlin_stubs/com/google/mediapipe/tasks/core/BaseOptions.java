package com.google.mediapipe.tasks.core;

public abstract class BaseOptions {
    public static Builder builder() { throw new UnsupportedOperationException("stub"); }

    public abstract static class Builder {
        public abstract Builder setModelAssetPath(String value);
        public abstract Builder setModelAssetBuffer(java.nio.ByteBuffer value);
        public abstract Builder setDelegate(Delegate delegate);
        public abstract BaseOptions build();
    }
}
