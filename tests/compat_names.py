"""The PyTorch names everyday programs use, by namespace (curated from PyTorch's documentation:
the tensor, nn, nn.functional, autograd, utils.data, linalg, distributions and optim pages).
tests/test_compat.py checks which exist here and how they behave on a sample call."""

_ = str.split

NAMES = {
    "torch": _("""
        tensor as_tensor from_numpy zeros zeros_like ones ones_like empty empty_like full
        full_like eye arange linspace logspace rand rand_like randn randn_like randint
        randint_like randperm normal bernoulli multinomial poisson manual_seed seed
        initial_seed get_rng_state set_rng_state Generator
        is_tensor is_floating_point numel clone set_default_dtype get_default_dtype
        set_default_device get_default_device set_printoptions
        float float32 float64 double float16 half bfloat16 int int8 int16 int32 int64 long
        uint8 bool short dtype device Size Tensor finfo iinfo
        cat concat concatenate stack hstack vstack dstack column_stack split chunk
        tensor_split unbind reshape flatten unflatten squeeze unsqueeze transpose swapaxes
        permute movedim t flip fliplr flipud roll rot90 narrow select gather scatter
        scatter_add index_select masked_select masked_fill take take_along_dim where nonzero
        argwhere tile repeat_interleave broadcast_to broadcast_tensors meshgrid tril triu
        diag diagonal diag_embed trace block_diag cartesian_prod combinations
        add sub mul div true_divide floor_divide remainder fmod pow neg abs sign sqrt rsqrt
        exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan atan2 sinh cosh tanh
        asinh acosh atanh sigmoid logit erf erfc erfinv floor ceil round trunc frac clamp
        clip maximum minimum lerp addcmul addcdiv hypot reciprocal square nan_to_num
        logaddexp xlogy copysign heaviside
        eq ne lt le gt ge equal allclose isclose isnan isinf isfinite isposinf isneginf
        logical_and logical_or logical_not logical_xor
        sum mean prod std var std_mean var_mean max min amax amin aminmax argmax argmin
        logsumexp norm dist all any count_nonzero nansum nanmean median nanmedian mode
        quantile nanquantile cumsum cumprod cummax cummin logcumsumexp sort argsort msort
        topk kthvalue unique unique_consecutive searchsorted bucketize histc bincount
        matmul mm bmm mv dot outer inner einsum tensordot kron cross addmm addmv baddbmm
        addbmm inverse det logdet slogdet pinverse matrix_power cdist cholesky
        softmax log_softmax relu gelu
        no_grad enable_grad set_grad_enabled is_grad_enabled inference_mode
        save load from_dlpack compile
        autograd nn optim utils linalg distributions cuda backends
        pi e inf nan
    """),
    "Tensor": _("""
        shape size dim ndim numel dtype device requires_grad grad grad_fn is_leaf data T mT
        item tolist numpy cpu cuda to type float double half long int bool clone detach
        detach_ requires_grad_ backward retain_grad register_hook contiguous is_contiguous
        view view_as reshape reshape_as flatten unflatten squeeze unsqueeze transpose permute
        t expand expand_as repeat flip roll chunk split unbind narrow select gather scatter
        scatter_ scatter_add index_select masked_fill masked_fill_ index_fill index_add
        index_copy
        add sub mul div pow neg abs sqrt exp log sin cos tanh sigmoid relu clamp clamp_
        floor ceil round sign reciprocal square
        add_ sub_ mul_ div_ pow_ zero_ fill_ copy_ uniform_ normal_ exponential_ random_
        bernoulli_ clamp_min clamp_max
        sum mean prod std var max min amax amin argmax argmin norm logsumexp softmax
        log_softmax cumsum cumprod sort argsort topk all any
        matmul mm bmm mv dot outer
        eq ne lt le gt ge isnan isinf isfinite allclose equal
        new_zeros new_ones new_full new_empty new_tensor type_as element_size nbytes itemsize
        stride storage_offset is_floating_point is_cuda
    """),
    "nn": _("""
        Module Parameter Sequential ModuleList ModuleDict ParameterList ParameterDict
        Linear Bilinear Identity Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d
        MaxPool1d MaxPool2d AvgPool1d AvgPool2d AdaptiveAvgPool1d AdaptiveAvgPool2d
        AdaptiveMaxPool2d BatchNorm1d BatchNorm2d LayerNorm GroupNorm InstanceNorm2d
        Dropout Dropout2d Embedding EmbeddingBag RNN LSTM GRU RNNCell LSTMCell GRUCell
        MultiheadAttention TransformerEncoder TransformerEncoderLayer Transformer
        ReLU LeakyReLU PReLU ELU SELU GELU SiLU Mish Sigmoid Tanh Softmax LogSoftmax
        Softplus Hardtanh ReLU6 Softsign Tanhshrink Hardswish Hardsigmoid
        MSELoss L1Loss SmoothL1Loss HuberLoss CrossEntropyLoss NLLLoss BCELoss
        BCEWithLogitsLoss KLDivLoss CosineEmbeddingLoss MarginRankingLoss TripletMarginLoss
        Flatten Unflatten Upsample PixelShuffle ZeroPad2d ConstantPad1d ReflectionPad2d
        CosineSimilarity PairwiseDistance init utils functional
    """),
    "nn.functional": _("""
        linear bilinear conv1d conv2d conv3d conv_transpose2d max_pool1d max_pool2d
        avg_pool1d avg_pool2d adaptive_avg_pool2d adaptive_max_pool2d batch_norm layer_norm
        group_norm instance_norm dropout embedding one_hot pad interpolate normalize
        relu relu6 leaky_relu elu selu gelu silu mish sigmoid tanh softmax log_softmax
        softplus softsign hardtanh hardswish hardsigmoid logsigmoid glu
        mse_loss l1_loss smooth_l1_loss huber_loss cross_entropy nll_loss
        binary_cross_entropy binary_cross_entropy_with_logits kl_div cosine_similarity
        pairwise_distance triplet_margin_loss margin_ranking_loss
        scaled_dot_product_attention unfold fold pixel_shuffle grid_sample affine_grid
    """),
    "autograd": _("""
        grad backward Function Variable gradcheck gradgradcheck no_grad enable_grad
        set_grad_enabled detect_anomaly set_detect_anomaly functional
    """),
    "autograd.functional": _("jacobian hessian vjp jvp hvp vhp"),
    "utils.data": _("""
        Dataset IterableDataset TensorDataset DataLoader Subset ConcatDataset random_split
        Sampler SequentialSampler RandomSampler BatchSampler SubsetRandomSampler
        WeightedRandomSampler default_collate get_worker_info
    """),
    "linalg": _("""
        norm vector_norm matrix_norm inv det slogdet solve lstsq cholesky qr eigh eigvalsh
        eig svd svdvals pinv matrix_rank matrix_power cross multi_dot
    """),
    "distributions": _("""
        Distribution Normal Uniform Bernoulli Categorical Beta Gamma Exponential Poisson
        Binomial MultivariateNormal Dirichlet Laplace LogNormal kl_divergence
    """),
    "optim": _("""
        SGD Adam AdamW RMSprop Adagrad Adadelta Adamax NAdam RAdam LBFGS Optimizer
        lr_scheduler
    """),
    "optim.lr_scheduler": _("""
        StepLR MultiStepLR ExponentialLR CosineAnnealingLR ReduceLROnPlateau LambdaLR
        OneCycleLR CyclicLR LinearLR ConstantLR SequentialLR CosineAnnealingWarmRestarts
    """),
}
