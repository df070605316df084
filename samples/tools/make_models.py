#!/usr/bin/python3
"""Builds every sample's ONNX model and pins its sha256 in the manifests.

Run with Debian's interpreter (python3-onnx, python3-sklearn, python3-numpy):

    /usr/bin/python3 samples/tools/make_models.py

skl2onnx is not packaged in Debian 12, so the graphs are written by hand with
onnx.helper from the fitted scikit-learn models' coefficients and trees (the
ONNX-ML operators), and the CNNs get seeded random weights: they are examples
of shape and size, not trained networks. Every seed is fixed and nothing reads
the clock, so a rerun writes byte-identical files and leaves the manifests'
`sha256:` lines unchanged.
"""

import hashlib
import json
import pathlib
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_diabetes, make_classification
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler

SAMPLES = pathlib.Path(__file__).resolve().parent.parent
OPSETS = [helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)]
PRODUCER = "ferry samples/tools/make_models.py"
ML = "ai.onnx.ml"


def finish(graph, doc, metadata=None):
    """Wraps a graph in a model with pinned versions and checks it."""
    model = helper.make_model(graph, opset_imports=OPSETS, producer_name=PRODUCER,
                              producer_version="1", doc_string=doc)
    # Pinned so a newer onnx package does not change the bytes.
    model.ir_version = 8
    for key, value in sorted((metadata or {}).items()):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model, full_check=True)
    return model


def floats(array):
    return [float(x) for x in np.asarray(array, dtype=np.float32).ravel()]


# --- faq-matching: TF-IDF + logistic regression, ranked FAQ ids out ----------

# (question, paraphrases used as extra training text, answer)
FAQS = [
    ("How do I reset my password?", "forgot password; change my password", "Use 'Forgot password' on the sign-in page."),
    ("How do I change my email address?", "update email; new email address", "Open Profile > Email and confirm the new address."),
    ("How can I delete my account?", "close account; remove my account", "Open Settings > Account > Delete account."),
    ("Where can I download my invoices?", "billing invoice pdf; get invoice", "Invoices are under Billing > History."),
    ("Which payment methods do you accept?", "pay with card; paypal payment", "Cards, PayPal and bank transfer."),
    ("How do I cancel my subscription?", "stop subscription; end plan", "Open Billing > Plan > Cancel."),
    ("Can I get a refund?", "money back; refund request", "Refunds are possible within 30 days."),
    ("How do I enable two-factor authentication?", "2fa setup; authenticator app code", "Open Security > Two-factor and scan the code."),
    ("Why was my login blocked?", "account locked; too many login attempts", "Wait 15 minutes or reset your password."),
    ("How do I contact support?", "talk to support; help desk phone", "Write to support@example.com."),
    ("What are your opening hours?", "support hours; when are you open", "Monday to Friday, 9:00 to 18:00."),
    ("How do I export my data?", "download my data; data export csv", "Open Settings > Privacy > Export."),
    ("Is my data encrypted?", "encryption at rest; data security", "Yes, at rest and in transit."),
    ("How do I invite a team member?", "add user to team; invite colleague", "Open Team > Invite and enter their email."),
    ("How do I change my plan?", "upgrade plan; downgrade subscription tier", "Open Billing > Plan > Change."),
    ("Does the app work offline?", "offline mode; no internet connection", "Yes, changes sync when you reconnect."),
    ("Which browsers are supported?", "browser support; chrome firefox safari", "The last two versions of Chrome, Firefox, Safari and Edge."),
    ("How do I install the mobile app?", "android ios app; phone application", "Search for it in your phone's app store."),
    ("How do I change the language?", "interface language; switch to italian", "Open Settings > Language."),
    ("Where is my order?", "track order; shipping status delivery", "Open Orders to see the tracking link."),
]
STOPWORDS = ["a", "an", "and", "are", "can", "do", "does", "i", "is", "my", "the", "to", "we",
             "what", "where", "which", "why", "you", "your"]
TOP_K = 3


def faq_training_set():
    texts, labels = [], []
    for label, (question, paraphrases, _) in enumerate(FAQS):
        for text in [question] + paraphrases.split("; "):
            texts.append(text)
            labels.append(label)
    return texts, labels


def check_faq_graph(words, vectorizer, classifier, texts):
    """Evaluates the graph's arithmetic with numpy and compares it with scikit-learn."""
    column = {word: i for i, word in enumerate(words)}
    for text in texts:
        counts = np.zeros(len(words))
        for token in re.findall(r"\b\w\w+\b", text.lower()):
            if token not in STOPWORDS and token in column:
                counts[column[token]] += 1
        tfidf = counts * vectorizer.idf_
        features = tfidf / max(np.linalg.norm(tfidf), 1e-12)
        logits = classifier.coef_ @ features + classifier.intercept_
        graph = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
        expected = classifier.predict_proba(vectorizer.transform([text]))[0]
        assert np.allclose(graph, expected, atol=1e-6), f"faq graph disagrees on {text!r}"


def make_faq_ranker():
    texts, labels = faq_training_set()
    vectorizer = TfidfVectorizer(lowercase=True, stop_words=STOPWORDS)
    features = vectorizer.fit_transform(texts)
    classifier = LogisticRegression(C=20.0, max_iter=1000).fit(features, labels)
    vocabulary = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
    words = [word for word, _ in vocabulary]
    n_words, n_classes = len(words), len(FAQS)

    nodes = [
        # The scoring code tokenizes the question (words of 2+ letters, like
        # scikit-learn's token pattern); the graph lower-cases and drops stop words.
        helper.make_node("StringNormalizer", ["tokens"], ["normalized"], name="normalize",
                         case_change_action="LOWER", is_case_sensitive=0, stopwords=STOPWORDS),
        helper.make_node("TfIdfVectorizer", ["normalized"], ["tfidf"], name="tfidf",
                         mode="TFIDF", min_gram_length=1, max_gram_length=1, max_skip_count=0,
                         ngram_counts=[0], ngram_indexes=list(range(n_words)),
                         pool_strings=words, weights=floats(vectorizer.idf_)),
        helper.make_node("Normalizer", ["tfidf"], ["features"], name="l2", domain=ML, norm="L2"),
        helper.make_node("LinearClassifier", ["features"], ["label", "probabilities"],
                         name="classifier", domain=ML,
                         coefficients=floats(classifier.coef_), intercepts=floats(classifier.intercept_),
                         classlabels_ints=list(range(n_classes)), multi_class=1,
                         post_transform="SOFTMAX"),
        helper.make_node("TopK", ["probabilities", "k"], ["scores", "faq_ids"], name="rank",
                         axis=-1, largest=1, sorted=1),
    ]
    graph = helper.make_graph(
        nodes, "faq_ranker",
        [helper.make_tensor_value_info("tokens", TensorProto.STRING, [1, "words"])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, [1]),
         helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, TOP_K]),
         helper.make_tensor_value_info("faq_ids", TensorProto.INT64, [1, TOP_K])],
        initializer=[numpy_helper.from_array(np.array([TOP_K], dtype=np.int64), "k")])
    check_faq_graph(words, vectorizer, classifier, texts)
    answers = [{"id": i, "question": q, "answer": a} for i, (q, _, a) in enumerate(FAQS)]
    return finish(graph, "Ranks the FAQ entries for one tokenized question (TF-IDF + logistic regression).",
                  {"faq": json.dumps(answers, separators=(",", ":"))})


# --- CNN building blocks (seeded random weights) -----------------------------

class Net:
    """Collects nodes and initializers of a feed-forward CNN, named after its layers."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.weights = [], []

    def param(self, name, array):
        self.weights.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), name))
        return name

    def conv(self, name, x, c_in, c_out, kernel, stride=1):
        fan_in = c_in * kernel * kernel
        w = self.param(f"{name}.weight", self.rng.normal(0, np.sqrt(2 / fan_in), (c_out, c_in, kernel, kernel)))
        b = self.param(f"{name}.bias", np.zeros(c_out))
        self.nodes.append(helper.make_node("Conv", [x, w, b], [name], name=name, kernel_shape=[kernel, kernel],
                                           strides=[stride, stride], pads=[kernel // 2] * 4))
        return name

    def batch_norm(self, name, x, channels):
        inputs = [x,
                  self.param(f"{name}.scale", self.rng.uniform(0.8, 1.2, channels)),
                  self.param(f"{name}.bias", self.rng.normal(0, 0.05, channels)),
                  self.param(f"{name}.mean", self.rng.normal(0, 0.05, channels)),
                  self.param(f"{name}.var", self.rng.uniform(0.8, 1.2, channels))]
        self.nodes.append(helper.make_node("BatchNormalization", inputs, [name], name=name, epsilon=1e-5))
        return name

    def op(self, kind, name, inputs, **attributes):
        self.nodes.append(helper.make_node(kind, inputs, [name], name=name, **attributes))
        return name

    def dense(self, name, x, n_in, n_out):
        w = self.param(f"{name}.weight", self.rng.normal(0, np.sqrt(2 / n_in), (n_out, n_in)))
        b = self.param(f"{name}.bias", np.zeros(n_out))
        return self.op("Gemm", name, [x, w, b], transB=1)

    def conv_bn_relu(self, name, x, c_in, c_out, stride=1):
        y = self.batch_norm(f"{name}.bn", self.conv(f"{name}.conv", x, c_in, c_out, 3, stride), c_out)
        return self.op("Relu", f"{name}.relu", [y])

    def residual_block(self, name, x, c_in, c_out, stride):
        """conv-bn-relu, conv-bn, plus the input (a 1x1 projection when the shape changes), relu."""
        y = self.conv_bn_relu(f"{name}.a", x, c_in, c_out, stride)
        y = self.batch_norm(f"{name}.b.bn", self.conv(f"{name}.b.conv", y, c_out, c_out, 3), c_out)
        shortcut = x
        if stride != 1 or c_in != c_out:
            shortcut = self.batch_norm(f"{name}.proj.bn",
                                       self.conv(f"{name}.proj.conv", x, c_in, c_out, 1, stride), c_out)
        return self.op("Relu", f"{name}.out", [self.op("Add", f"{name}.add", [y, shortcut])])

    def top_k(self, probabilities, k):
        self.weights.append(numpy_helper.from_array(np.array([k], dtype=np.int64), "k"))
        self.nodes.append(helper.make_node("TopK", [probabilities, "k"], ["scores", "classes"], name="rank",
                                           axis=-1, largest=1, sorted=1))


CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def make_image_classifier():
    """A ResNet-style CNN for 3x32x32 images and 10 classes (the seeds use
    ResNet-152 on ImageNet-1K; this keeps its shape at a sample's size)."""
    net = Net(seed=152)
    x = net.conv_bn_relu("stem", "image", 3, 16)
    x = net.op("MaxPool", "stem.pool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = net.residual_block("block1", x, 16, 16, 1)
    x = net.residual_block("block2", x, 16, 32, 2)
    x = net.residual_block("block3", x, 32, 64, 2)
    x = net.op("Flatten", "flatten", [net.op("GlobalAveragePool", "pool", [x])], axis=1)
    net.op("Softmax", "probabilities", [net.dense("fc", x, 64, len(CIFAR10))], axis=-1)
    net.top_k("probabilities", 3)
    graph = helper.make_graph(
        net.nodes, "resnet_mini",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 3]),
         helper.make_tensor_value_info("classes", TensorProto.INT64, ["batch", 3])],
        initializer=net.weights)
    return finish(graph, "ResNet-style image classifier, 3x32x32 RGB in, top-3 of 10 classes out.",
                  {"labels": json.dumps(CIFAR10, separators=(",", ":"))})


def make_digit_reader():
    """A small CNN sized for an FPGA: two conv layers and two dense layers on
    28x28 grayscale digits."""
    net = Net(seed=28)
    x = net.op("Relu", "conv1.relu", [net.conv("conv1", "image", 1, 8, 3)])
    x = net.op("MaxPool", "pool1", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = net.op("Relu", "conv2.relu", [net.conv("conv2", x, 8, 16, 3)])
    x = net.op("MaxPool", "pool2", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = net.op("Flatten", "flatten", [x], axis=1)
    x = net.op("Relu", "fc1.relu", [net.dense("fc1", x, 16 * 7 * 7, 32)])
    net.op("Softmax", "probabilities", [net.dense("fc2", x, 32, 10)], axis=-1)
    net.top_k("probabilities", 1)
    graph = helper.make_graph(
        net.nodes, "digit_reader",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 1]),
         helper.make_tensor_value_info("classes", TensorProto.INT64, ["batch", 1])],
        initializer=net.weights)
    return finish(graph, "Small CNN reading one handwritten digit, 1x28x28 in, the digit out.",
                  {"labels": json.dumps([str(d) for d in range(10)], separators=(",", ":"))})


# --- dev-test: ridge regression on the diabetes data (10 features) -----------

def make_diabetes_ridge():
    data = load_diabetes(scaled=False)
    scaler = StandardScaler().fit(data.data)
    ridge = Ridge(alpha=1.0).fit(scaler.transform(data.data), data.target)
    nodes = [
        helper.make_node("Scaler", ["data"], ["scaled"], name="scaler", domain=ML,
                         offset=floats(scaler.mean_), scale=floats(1 / scaler.scale_)),
        helper.make_node("LinearRegressor", ["scaled"], ["predicted"], name="ridge", domain=ML,
                         coefficients=floats(ridge.coef_), intercepts=floats([ridge.intercept_]), targets=1),
    ]
    graph = helper.make_graph(
        nodes, "diabetes_ridge",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, ["batch", 10])],
        [helper.make_tensor_value_info("predicted", TensorProto.FLOAT, ["batch", 1])])
    sample = np.arange(1, 11, dtype=np.float64).reshape(1, -1)
    prediction = ridge.predict(scaler.transform(sample))[0]
    print(f"diabetes ridge: {{\"data\": [[1..10]]}} -> {prediction:.3f}")
    return finish(graph, "Ridge regression: disease progression one year after baseline, 10 features in.",
                  {"features": json.dumps(list(data.feature_names), separators=(",", ":"))})


# --- controlled-rollout: churn scorer v1 (logistic) and v2 (boosted trees) ---

CHURN_FEATURES = ["tenure_months", "monthly_charges", "total_charges", "support_calls",
                  "late_payments", "logins_per_week", "seats", "discount_percent"]


def churn_data():
    return make_classification(n_samples=2000, n_features=len(CHURN_FEATURES), n_informative=5,
                               n_redundant=1, random_state=7)


def churn_graph(nodes, name):
    return helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", len(CHURN_FEATURES)])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["batch"]),
         helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 2])])


def make_churn_logistic():
    x, y = churn_data()
    scaler = StandardScaler().fit(x)
    classifier = LogisticRegression(max_iter=1000).fit(scaler.transform(x), y)
    # Binary: one row per class, [-w, w], so LOGISTIC gives [1 - p, p].
    coefficients = np.vstack([-classifier.coef_, classifier.coef_])
    intercepts = np.concatenate([-classifier.intercept_, classifier.intercept_])
    nodes = [
        helper.make_node("Scaler", ["features"], ["scaled"], name="scaler", domain=ML,
                         offset=floats(scaler.mean_), scale=floats(1 / scaler.scale_)),
        helper.make_node("LinearClassifier", ["scaled"], ["label", "probabilities"], name="logistic",
                         domain=ML, coefficients=floats(coefficients), intercepts=floats(intercepts),
                         classlabels_ints=[0, 1], post_transform="LOGISTIC"),
    ]
    return finish(churn_graph(nodes, "churn_logistic"), "Churn probability, logistic regression (v1).",
                  {"features": json.dumps(CHURN_FEATURES, separators=(",", ":"))})


def tree_attributes(trees, scale):
    """ONNX-ML TreeEnsemble node and leaf attributes for scikit-learn trees."""
    a = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values",
                         "nodes_modes", "nodes_truenodeids", "nodes_falsenodeids",
                         "class_treeids", "class_nodeids", "class_ids", "class_weights"]}
    for tree_id, tree in enumerate(trees):
        for node in range(tree.node_count):
            leaf = tree.children_left[node] == -1
            a["nodes_treeids"].append(tree_id)
            a["nodes_nodeids"].append(node)
            a["nodes_featureids"].append(0 if leaf else int(tree.feature[node]))
            a["nodes_values"].append(0.0 if leaf else float(np.float32(tree.threshold[node])))
            # scikit-learn sends x <= threshold to the left child.
            a["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            a["nodes_truenodeids"].append(0 if leaf else int(tree.children_left[node]))
            a["nodes_falsenodeids"].append(0 if leaf else int(tree.children_right[node]))
            if leaf:
                a["class_treeids"].append(tree_id)
                a["class_nodeids"].append(node)
                a["class_ids"].append(0)
                a["class_weights"].append(float(np.float32(tree.value[node].ravel()[0] * scale)))
    return a


def make_churn_boosted():
    x, y = churn_data()
    booster = GradientBoostingClassifier(n_estimators=50, max_depth=3, random_state=0).fit(x, y)
    prior = float(np.mean(y))
    base = np.log(prior / (1 - prior))
    trees = [estimator[0].tree_ for estimator in booster.estimators_]
    attributes = tree_attributes(trees, booster.learning_rate)
    # The graph must agree with scikit-learn: the raw score is the prior's
    # log-odds plus the scaled leaf values.
    raw = base + booster.learning_rate * sum(t.predict(x.astype(np.float32)) for t in
                                             (e[0] for e in booster.estimators_))
    assert np.allclose(raw, booster.decision_function(x), atol=1e-4), "tree export disagrees"
    nodes = [helper.make_node("TreeEnsembleClassifier", ["features"], ["label", "probabilities"],
                              name="boosted_trees", domain=ML, classlabels_int64s=[0, 1],
                              base_values=[float(base)], post_transform="LOGISTIC", **attributes)]
    return finish(churn_graph(nodes, "churn_boosted_trees"),
                  "Churn probability, gradient-boosted trees, 50 trees of depth 3 (v2).",
                  {"features": json.dumps(CHURN_FEATURES, separators=(",", ":"))})


# --- writing files and pinning digests ----------------------------------------

MODELS = {
    "faq-matching/models/faq_ranker_v1.onnx": make_faq_ranker,
    "image-classification/models/resnet_mini_v1.onnx": make_image_classifier,
    "fpga-inference/models/digit_reader_v1.onnx": make_digit_reader,
    "dev-test/models/diabetes_ridge_v1.onnx": make_diabetes_ridge,
    "controlled-rollout/models/churn_logistic_v1.onnx": make_churn_logistic,
    "controlled-rollout/models/churn_boosted_v2.onnx": make_churn_boosted,
}

SHA_LINE = re.compile(r"(path:\s*(models/[A-Za-z0-9_.-]+\.onnx)[,\s]+sha256:\s*)([0-9A-Za-z]+)")


def pin_digests(digests):
    """Rewrites each manifest's `sha256:` after a `path: models/...` it names."""
    for manifest in sorted(SAMPLES.glob("*/ferry.yaml")):
        sample = manifest.parent.name
        text = manifest.read_text()

        def replace(match):
            key = f"{sample}/{match.group(2)}"
            return match.group(1) + digests[key] if key in digests else match.group(0)

        updated = SHA_LINE.sub(replace, text)
        if updated != text:
            manifest.write_text(updated)
            print(f"updated {manifest.relative_to(SAMPLES.parent)}")


def main():
    digests = {}
    for relative, make in MODELS.items():
        data = make().SerializeToString()
        path = SAMPLES / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        digests[relative] = hashlib.sha256(data).hexdigest()
        print(f"{digests[relative]}  samples/{relative} ({len(data)} bytes)")
    pin_digests(digests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
