package com.google.mediapipe.tasks.vision.imageclassifier;

import android.content.Context;
import com.google.mediapipe.framework.image.MPImage;
import com.google.mediapipe.tasks.core.BaseOptions;
import com.google.mediapipe.tasks.vision.core.RunningMode;

public final class ImageClassifier implements AutoCloseable {
    public static ImageClassifier createFromOptions(Context context, ImageClassifierOptions options) {
        throw new UnsupportedOperationException("stub");
    }

    public ImageClassifierResult classify(MPImage image) { throw new UnsupportedOperationException("stub"); }

    @Override public void close() {}

    public abstract static class ImageClassifierOptions {
        public static Builder builder() { throw new UnsupportedOperationException("stub"); }

        public abstract static class Builder {
            public abstract Builder setBaseOptions(BaseOptions value);
            public abstract Builder setRunningMode(RunningMode value);
            public abstract Builder setMaxResults(Integer value);
            public abstract Builder setScoreThreshold(Float value);
            public abstract ImageClassifierOptions build();
        }
    }
}
