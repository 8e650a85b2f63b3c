package com.google.mediapipe.framework.image;

public class MPImage implements java.io.Closeable {
    public int getWidth() { throw new UnsupportedOperationException("stub"); }
    public int getHeight() { throw new UnsupportedOperationException("stub"); }
    @Override public void close() {}
}
